"""Template filters of the events area (registered with the blueprint, app-wide)."""

from __future__ import annotations

from portal.events import bp, labels
from portal.events.codes import format_pass_code

bp.add_app_template_filter(labels.kind_label, "event_kind")
bp.add_app_template_filter(labels.mode_label, "event_mode")
bp.add_app_template_filter(labels.status_label, "reg_status")
bp.add_app_template_filter(labels.event_status_label, "event_status")
bp.add_app_template_filter(labels.hours, "cpd_hours")
bp.add_app_template_filter(format_pass_code, "pass_code")
