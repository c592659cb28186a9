"""Changes to a flow as the editor makes them: insert, remove, move, configure a step. Pure
functions over the step tree; the page saves the result through scenario_update."""

import copy
import secrets

from automations import flow


def _locate(steps: list, step_id: str):
    """(the list holding the step, its index), or (None, -1)."""
    for index, step in enumerate(steps):
        if step["id"] == step_id:
            return steps, index
        for arm in ("yes", "no"):
            found, at = _locate(step.get(arm) or [], step_id)
            if found is not None:
                return found, at
    return None, -1


def _arm(steps: list, place: str) -> list | None:
    """`place`: "" (the main line) or "<branch id>:yes" / "<branch id>:no"."""
    if not place:
        return steps
    branch_id, _sep, arm = place.partition(":")
    holder, index = _locate(steps, branch_id)
    if holder is None or holder[index]["kind"] != flow.BRANCH or arm not in ("yes", "no"):
        return None
    return holder[index].setdefault(arm, [])


def new_step(kind: str) -> dict:
    step = {"id": f"{kind[:6]}_{secrets.token_hex(3)}", "kind": kind, "config": {}}
    if kind == flow.WAIT:
        step["config"] = {"mode": "duration", "days": 1}
    if kind == flow.BRANCH:
        step.update(yes=[], no=[])
    return step


def step_insert(steps: list, *, kind: str, place: str = "", index: int | None = None):
    """A copy of `steps` with a new step of `kind`; (steps, the new step's id)."""
    changed = copy.deepcopy(steps)
    target = _arm(changed, place)
    if target is None or kind not in flow.KINDS:
        return steps, None
    step = new_step(kind)
    target.insert(len(target) if index is None else max(0, min(index, len(target))), step)
    return changed, step["id"]


def step_remove(steps: list, step_id: str) -> list:
    changed = copy.deepcopy(steps)
    holder, index = _locate(changed, step_id)
    if holder is not None:
        del holder[index]
    return changed


def step_move(steps: list, step_id: str, offset: int) -> list:
    """Up (-1) or down (+1) within its own list."""
    changed = copy.deepcopy(steps)
    holder, index = _locate(changed, step_id)
    if holder is not None and 0 <= index + offset < len(holder):
        holder[index], holder[index + offset] = holder[index + offset], holder[index]
    return changed


def step_configure(steps: list, step_id: str, config: dict) -> list:
    changed = copy.deepcopy(steps)
    holder, index = _locate(changed, step_id)
    if holder is not None:
        holder[index]["config"] = config
    return changed


def find_step(steps: list, step_id: str) -> dict | None:
    holder, index = _locate(steps, step_id)
    return holder[index] if holder is not None else None
