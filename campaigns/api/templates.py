"""API of the email templates: the account's own (HTML or compiled MJML) and the gallery."""

import inspect

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api_fields import StrictCharField, StrictModelSerializer
from accounts.tenancy import AccountObjectsViewSet
from campaigns import services
from campaigns.api.designs import DesignBody, SavedDesignSerializer, TemplateDesignSerializer
from campaigns.editor.selectors import template_design
from campaigns.editor.services import template_design_save
from campaigns.gallery import OBJECTIVES, UNIVERSES, gallery
from campaigns.models import EmailTemplate


class GalleryTemplateSerializer(serializers.Serializer):
    slug = serializers.CharField()
    universe = serializers.ChoiceField(choices=list(UNIVERSES.items()))
    objective = serializers.ChoiceField(choices=list(OBJECTIVES.items()))
    name = serializers.CharField()
    description = serializers.CharField()


MJML_PATTERN = r"^\s*<mjml"


class TemplateSourceField(StrictCharField):
    """The template's code: HTML, or for `kind` mjml an MJML document (starting with `<mjml`,
    compiled at save: a source that does not compile is a 400). Merge tags are checked as in
    campaigns: an unknown or unclosed tag is a 400."""


class EmailTemplateSerializer(StrictModelSerializer):
    source = TemplateSourceField()

    class Meta:
        model = EmailTemplate
        fields = ["id", "name", "kind", "source", "html", "created_at", "updated_at"]
        read_only_fields = ["id", "html", "created_at", "updated_at"]


# The request of POST /templates/, written out because its rule on `source` depends on `kind`
# (which a serializer field cannot say): an MJML source starts with `<mjml`.
TEMPLATE_REQUEST_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "kind": {
            "type": "string",
            "enum": EmailTemplate.Kind.values,
            "default": EmailTemplate.Kind.HTML,
        },
        "source": {
            "type": "string",
            "minLength": 1,
            "description": inspect.cleandoc(TemplateSourceField.__doc__),
        },
    },
    "required": ["name", "source"],
    "anyOf": [
        # Patterns, not one-value enums: the schema's enum post-processing would merge those
        # into the full enum and lose the condition.
        {"properties": {"kind": {"type": "string", "pattern": f"^{EmailTemplate.Kind.HTML}$"}}},
        {
            "properties": {
                "kind": {"type": "string", "pattern": f"^{EmailTemplate.Kind.MJML}$"},
                "source": {"type": "string", "pattern": MJML_PATTERN},
            },
            "required": ["kind"],
        },
    ],
}


class EmailTemplateCreateSerializer(EmailTemplateSerializer):
    """The body of POST /templates/; its schema is TEMPLATE_REQUEST_SCHEMA."""


class _TemplateRequestSchema(OpenApiSerializerExtension):
    target_class = EmailTemplateCreateSerializer

    def map_serializer(self, auto_schema, direction):
        return TEMPLATE_REQUEST_SCHEMA


@extend_schema_view(
    list=extend_schema(summary="List the account's templates", tags=["Templates"]),
    retrieve=extend_schema(summary="Get a template", tags=["Templates"]),
    destroy=extend_schema(summary="Delete a template", tags=["Templates"]),
)
class EmailTemplateViewSet(AccountObjectsViewSet):
    queryset = EmailTemplate.objects.all()
    serializer_class = EmailTemplateSerializer

    @extend_schema(
        summary="Save a template (MJML is compiled, HTML kept)",
        request=EmailTemplateCreateSerializer,
        responses={201: EmailTemplateSerializer},
        tags=["Templates"],
    )
    def create(self, request):
        serializer = EmailTemplateCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        template = services.template_save(account=request.account, **serializer.validated_data)
        return Response(EmailTemplateSerializer(template).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="The starter gallery (responsive MJML templates by universe and objective)",
        responses=GalleryTemplateSerializer(many=True),
        tags=["Templates"],
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def gallery(self, request):
        return Response(GalleryTemplateSerializer(gallery(), many=True).data)

    @extend_schema(
        methods=["GET"],
        summary="The template's block design",
        responses=TemplateDesignSerializer,
        tags=["Templates"],
    )
    @extend_schema(
        methods=["PUT"],
        summary="Replace the template with a block design",
        description="The design is checked (a 400 names each mistake by its JSON path in "
        "`fields`), its merge tags too, then saved as the template's MJML and compiled HTML.",
        request=DesignBody,
        responses=SavedDesignSerializer,
        tags=["Templates"],
    )
    @action(detail=True, methods=["get", "put"], pagination_class=None)
    def design(self, request, pk=None):
        template = self.get_object()
        if request.method == "PUT":
            _template, saved = template_design_save(
                account=request.account, name=template.name, design=request.data, template=template
            )
            return Response(SavedDesignSerializer(saved).data)
        return Response(
            TemplateDesignSerializer(
                {"design": template_design(template), "html": template.html}
            ).data
        )
