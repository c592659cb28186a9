"""The block editor's designs over the API: GET / PUT the design JSON of a campaign or a
template. A PUT is checked, compiled (MJML, then HTML with mrml) and saved through the same
services as the editor's page; a mistake is a 400 whose `fields` are JSON paths into the body
(`sections[0].columns[1].blocks[2].alt`)."""

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from campaigns.editor.design import design_json_schema

DESIGN_SCHEMA = design_json_schema()


class DesignBody(serializers.Serializer):
    """The body of PUT …/design/: a design (its schema is DESIGN_SCHEMA); design_normalise
    checks it, so this serializer is only its name in the OpenAPI document."""


class _DesignBodySchema(OpenApiSerializerExtension):
    target_class = DesignBody

    def map_serializer(self, auto_schema, direction):
        return DESIGN_SCHEMA


@extend_schema_field(DESIGN_SCHEMA)
class DesignField(serializers.JSONField):
    pass


@extend_schema_field({**DESIGN_SCHEMA, "nullable": True})
class OptionalDesignField(serializers.JSONField):
    pass


class CampaignDesignSerializer(serializers.Serializer):
    design = OptionalDesignField(
        help_text="The design saved from the editor or the API, completed with its defaults; "
        "null for a campaign whose content was never built with blocks."
    )
    html = serializers.CharField(help_text="The campaign's content, as sent.")
    changed_elsewhere = serializers.BooleanField(
        help_text="The HTML was changed outside the editor since the design was saved: a PUT "
        "of the design replaces that HTML."
    )


class TemplateDesignSerializer(serializers.Serializer):
    design = DesignField(
        help_text="The template's design: the one saved from the editor, else its MJML or HTML "
        "imported into blocks (as the editor opens it)."
    )
    html = serializers.CharField(help_text="The template's compiled HTML.")


class SavedDesignSerializer(serializers.Serializer):
    design = DesignField(help_text="The design as saved, completed with its defaults.")
    html = serializers.CharField(help_text="The compiled HTML, now the content.")
    warnings = serializers.ListField(
        child=serializers.CharField(),
        help_text="What would stop a send, e.g. no unsubscribe link.",
    )
