"""The Textual dashboard. Import `agp_tui.ui.app.make_app`; nothing below cli imports this."""
