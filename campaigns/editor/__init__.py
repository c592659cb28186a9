"""The block editor (issue 17): a design (sections → columns → blocks, JSON) validated here,
compiled to MJML then HTML with mrml, and the pages that edit it. See docs/block-editor.md."""
