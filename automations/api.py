"""REST API of automation scenarios: CRUD, activate/pause/resume/archive, recipes, enrol a
contact by hand, enrolments and per-step statistics."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api_fields import (
    AccountObjects,
    JSONDocumentField,
    StrictCharField,
    StrictChoiceField,
)
from accounts.tenancy import AccountObjectsViewSet
from automations import flow, selectors, services
from automations.models import Enrolment, EntryRule, ExitEvent, Scenario, Trigger
from automations.recipes import RECIPES, RECIPES_BY_SLUG, scenario_from_recipe
from campaigns.models import SenderAddress
from contacts.api.segments import RulesField
from contacts.models import Contact
from sms.models import SmsSender

TAG = ["Automations"]


def _step_serializer(depth: int) -> type[serializers.Serializer]:
    """A step whose branch arms hold steps, unrolled to the flow's depth (5), so the schema
    says the whole tree (a serializer cannot name itself)."""
    fields = {
        "id": StrictCharField(max_length=40, help_text="Unique in the flow; kept across edits"),
        "kind": StrictChoiceField(choices=[(k, k) for k in flow.KINDS]),
        "config": JSONDocumentField(
            required=False,
            default=dict,
            help_text="The step's settings (see the scenario problems for what each kind needs)",
        ),
    }
    if depth < MAX_BRANCH_DEPTH:
        child = _step_serializer(depth + 1)
        fields["yes"] = child(many=True, required=False)
        fields["no"] = child(many=True, required=False)
    name = f"ScenarioStepLevel{depth}Serializer" if depth else "ScenarioStepSerializer"
    return type(name, (serializers.Serializer,), fields)


INT64 = 2**63 - 1


class TriggerConfigSerializer(serializers.Serializer):
    """Every setting a trigger reads (automations.triggers, automations.services), typed: a
    beat-driven trigger must never meet a text where it counts days. Others are refused."""

    field = StrictCharField(
        allow_blank=True,
        required=False,
        max_length=80,
        help_text="Date field (anniversary, relative date), e.g. `birth_date` or `fields.signup`",
    )
    time = serializers.RegexField(
        r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
        required=False,
        help_text="Local time of day the trigger runs, HH:MM",
    )
    days = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=3650,
        help_text="Inactivity, or not opened within these days",
    )
    days_before = serializers.IntegerField(required=False, min_value=0, max_value=3650)
    days_after = serializers.IntegerField(required=False, min_value=0, max_value=3650)
    list_id = serializers.IntegerField(required=False, min_value=1, max_value=INT64)
    campaign_id = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=INT64,
        help_text="The email campaign (opened, clicked, not opened); any campaign when left out",
    )
    rules = JSONDocumentField(required=False, help_text="Segment rules to enter")
    last_order_field = StrictCharField(required=False, max_length=80, allow_blank=True)

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    _("Unknown trigger settings: %(keys)s.") % {"keys": ", ".join(unknown)}
                )
        return dict(super().to_internal_value(data))


MAX_BRANCH_DEPTH = 5
StepSerializer = _step_serializer(0)


def _plain(step) -> dict:
    """Validated data (nested OrderedDicts) back to the plain JSON the flow is stored as."""
    plain = dict(step)
    for arm in ("yes", "no"):
        if arm in plain:
            plain[arm] = [_plain(child) for child in plain[arm]]
    return plain


class ScenarioSerializer(serializers.ModelSerializer):
    steps = StepSerializer(many=True, required=False)
    trigger = StrictChoiceField(choices=Trigger.choices, required=False)
    entry_rule = StrictChoiceField(choices=EntryRule.choices, required=False)
    exit_event = StrictChoiceField(choices=ExitEvent.choices, required=False, allow_blank=True)
    name = StrictCharField(max_length=200)
    trigger_config = TriggerConfigSerializer(required=False)
    audience_rules = RulesField(required=False, allow_null=True)
    version = serializers.IntegerField(source="current_version.number", read_only=True,
                                       allow_null=True, default=None)  # fmt: skip

    class Meta:
        model = Scenario
        fields = [
            "id", "name", "status", "trigger", "trigger_config", "audience_rules", "entry_rule",
            "reentry_days", "exit_event", "steps", "version", "recipe", "created_at",
            "updated_at",
        ]  # fmt: skip
        read_only_fields = ["status", "version", "recipe", "created_at", "updated_at"]
        extra_kwargs = {"reentry_days": {"max_value": 3650}}

    def validate_steps(self, steps):
        # A PATCH is partial for the scenario, never for its steps: each step given is whole.
        # (DRF passes `partial` down, which made `kind` optional inside the branch arms: a
        # kind-less step was stored, and every later read of the scenario failed.)
        if self.partial:
            whole = StepSerializer(data=self.initial_data.get("steps"), many=True)
            if not whole.is_valid():
                raise serializers.ValidationError(whole.errors)
        return steps


class ProblemSerializer(serializers.Serializer):
    step = serializers.CharField()
    message = serializers.CharField()


class RecipeSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()


class FromRecipeSerializer(serializers.Serializer):
    recipe = StrictChoiceField(choices=[(r.slug, r.slug) for r in RECIPES])
    sender = AccountObjects(SenderAddress, required=False, allow_null=True)
    sms_sender = AccountObjects(SmsSender, required=False, allow_null=True)


class EnrolSerializer(serializers.Serializer):
    contact = AccountObjects(Contact)


class EnrolmentSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(source="version.number", read_only=True)

    class Meta:
        model = Enrolment
        fields = ["id", "contact", "version", "status", "exit_reason", "current_step",
                  "entered_at", "finished_at"]  # fmt: skip
        read_only_fields = fields


class StepStatsSerializer(serializers.Serializer):
    step = serializers.CharField()
    kind = serializers.CharField()
    entered = serializers.IntegerField()
    waiting = serializers.IntegerField()
    done = serializers.IntegerField()
    exited = serializers.DictField(child=serializers.IntegerField())
    sent = serializers.IntegerField()
    opened = serializers.IntegerField()
    clicked = serializers.IntegerField()
    conversions = serializers.IntegerField(help_text="Contacts who ordered after the step")


def _data(validated: dict) -> dict:
    data = dict(validated)
    if "steps" in data:
        data["steps"] = [_plain(step) for step in data["steps"]]
    return data


@extend_schema_view(
    list=extend_schema(summary="List scenarios", tags=TAG),
    retrieve=extend_schema(summary="Get a scenario", tags=TAG),
    destroy=extend_schema(summary="Delete a draft scenario nobody entered", tags=TAG),
)
class ScenarioViewSet(AccountObjectsViewSet):
    queryset = Scenario.objects.select_related("current_version")
    serializer_class = ScenarioSerializer

    def _out(self, scenario):
        return ScenarioSerializer(scenario).data

    @extend_schema(summary="Create a scenario (a draft)", tags=TAG)
    def create(self, request):
        serializer = ScenarioSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        scenario = services.scenario_create(
            account=request.account, data=_data(serializer.validated_data)
        )
        return Response(self._out(scenario), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a scenario",
        description="An edit of an active or paused scenario is published at once as a new "
        "version (it must be ready to run: 409 `not_ready` otherwise); contacts already inside "
        "finish on the version they entered.",
        tags=TAG,
    )
    def partial_update(self, request, pk=None):
        scenario = self.get_object()
        serializer = ScenarioSerializer(scenario, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        scenario = services.scenario_update(
            scenario=scenario, data=_data(serializer.validated_data)
        )
        return Response(self._out(scenario))

    def perform_destroy(self, instance):
        services.scenario_delete(scenario=instance)

    @extend_schema(
        summary="What forbids activating the scenario",
        responses=ProblemSerializer(many=True),
        tags=TAG,
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def problems(self, request, pk=None):
        return Response(
            ProblemSerializer(services.scenario_problems(self.get_object()), many=True).data
        )

    def _change(self, change):
        return Response(self._out(change(scenario=self.get_object())))

    @extend_schema(summary="Activate (or resume) a scenario", request=None,
                   responses=ScenarioSerializer, tags=TAG)  # fmt: skip
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        return self._change(services.scenario_activate)

    @extend_schema(summary="Pause a scenario: contacts inside wait where they are",
                   request=None, responses=ScenarioSerializer, tags=TAG)  # fmt: skip
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return self._change(services.scenario_pause)

    @extend_schema(summary="Archive a scenario: every enrolment ends (reason `archived`)",
                   request=None, responses=ScenarioSerializer, tags=TAG)  # fmt: skip
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        return self._change(services.scenario_archive)

    @extend_schema(summary="Enrol a contact by hand", request=EnrolSerializer,
                   responses={201: EnrolmentSerializer}, tags=TAG)  # fmt: skip
    @action(detail=True, methods=["post"])
    def enrol(self, request, pk=None):
        scenario = self.get_object()
        serializer = EnrolSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        enrolment = services.contact_enrol(
            scenario=scenario, contact=serializer.validated_data["contact"]
        )
        return Response(EnrolmentSerializer(enrolment).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="List the scenario's enrolments",
                   responses=EnrolmentSerializer(many=True), tags=TAG)  # fmt: skip
    @action(detail=True, methods=["get"])
    def enrolments(self, request, pk=None):
        page = self.paginate_queryset(selectors.enrolments_of(self.get_object()))
        return self.get_paginated_response(EnrolmentSerializer(page, many=True).data)

    @extend_schema(summary="Per-step statistics", responses=StepStatsSerializer(many=True),
                   tags=TAG)  # fmt: skip
    @action(detail=True, methods=["get"], pagination_class=None)
    def stats(self, request, pk=None):
        return Response(
            StepStatsSerializer(selectors.scenario_stats(self.get_object()), many=True).data
        )

    @extend_schema(summary="The recipes gallery", responses=RecipeSerializer(many=True),
                   tags=TAG)  # fmt: skip
    @action(detail=False, methods=["get"], pagination_class=None)
    def recipes(self, request):
        return Response(RecipeSerializer(RECIPES, many=True).data)

    @extend_schema(summary="Create a draft from a recipe", request=FromRecipeSerializer,
                   responses={201: ScenarioSerializer}, tags=TAG)  # fmt: skip
    @action(detail=False, methods=["post"], url_path="from-recipe")
    def from_recipe(self, request):
        serializer = FromRecipeSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        sender, sms_sender = data.get("sender"), data.get("sms_sender")
        scenario = scenario_from_recipe(
            account=request.account,
            slug=RECIPES_BY_SLUG[data["recipe"]].slug,
            sender_id=sender.pk if sender else None,
            sms_sender_id=sms_sender.pk if sms_sender else None,
        )
        return Response(self._out(scenario), status=status.HTTP_201_CREATED)
