"""The dashboard's getting-started checklist: the first steps of a new account, each ticked from
the account's real data.

The steps belong to higher apps (contacts, campaigns, API keys, connectors), which this ground
floor may not import: they register here (`register_step`, called from `sendethic/apps.py`), the
way segment conditions are registered with contacts.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from accounts.models import Account, AccountMilestone


@dataclass(frozen=True)
class Step:
    key: str
    order: int
    label: str  # lazy translation
    hint: str  # lazy translation: what to do, shown while the step is open
    url_name: str  # where to do it
    is_done: Callable[[Account], bool]
    available: bool = True  # False: the feature is coming ("bientôt"), never ticked


@dataclass(frozen=True)
class StepState:
    step: Step
    done: bool


@dataclass(frozen=True)
class Checklist:
    steps: list[StepState]
    dismissed: bool

    @property
    def done_count(self) -> int:
        return sum(state.done for state in self.steps)

    @property
    def complete(self) -> bool:
        return all(state.done for state in self.steps if state.step.available)


_steps: dict[str, Step] = {}


def register_step(step: Step) -> None:
    _steps[step.key] = step


def milestone_reached(account: Account, kind: str) -> bool:
    return AccountMilestone.objects.filter(account=account, kind=kind).exists()


def milestone_reach(*, account: Account, kind: str) -> None:
    """Record the first time; later calls keep the first date and cost one query."""
    if milestone_reached(account, kind):
        return
    try:
        with transaction.atomic():
            AccountMilestone.objects.create(account=account, kind=kind)
    except IntegrityError:
        pass  # reached at the same moment by another request


def checklist_for(account: Account) -> Checklist:
    ordered = sorted(_steps.values(), key=lambda step: step.order)
    return Checklist(
        steps=[StepState(step, step.available and step.is_done(account)) for step in ordered],
        dismissed=milestone_reached(account, AccountMilestone.Kind.GETTING_STARTED_DISMISSED),
    )


def checklist_dismiss(*, account: Account) -> None:
    milestone_reach(account=account, kind=AccountMilestone.Kind.GETTING_STARTED_DISMISSED)


def checklist_restore(*, account: Account) -> None:
    AccountMilestone.objects.filter(
        account=account, kind=AccountMilestone.Kind.GETTING_STARTED_DISMISSED
    ).delete()
