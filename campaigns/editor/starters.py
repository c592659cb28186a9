"""Designs an editing session can start from when no template is chosen."""

from django.utils.translation import gettext as _

from campaigns.editor.design import design_normalise


def blank_design() -> dict:
    """A new email: a title, a text, a button and the footer every marketing email needs."""
    return design_normalise(
        {
            "sections": [
                {
                    "columns": [
                        {
                            "blocks": [
                                {
                                    "type": "text",
                                    "html": "<h1>{}</h1>".format(_("Your title")),
                                    "font_size": 16,
                                },
                                {
                                    "type": "text",
                                    "html": "<p>{} {{{{ first_name }}}},</p><p>{}</p>".format(
                                        _("Hello"), _("Write your message here.")
                                    ),
                                },
                                {
                                    "type": "button",
                                    "label": _("Find out more"),
                                    "href": "https://example.com",
                                },
                            ]
                        }
                    ]
                },
                footer_section(),
            ]
        }
    )


def footer_section() -> dict:
    return {
        "background_color": "",
        "columns": [
            {
                "blocks": [
                    {
                        "type": "text",
                        "align": "center",
                        "font_size": 12,
                        "color": "#777777",
                        "html": "<p>{{{{ account.name }}}} — {{{{ account.postal_address }}}}<br>"
                        '<a href="{{{{ unsubscribe_url }}}}">{}</a></p>'.format(_("Unsubscribe")),
                    }
                ]
            }
        ],
    }
