"""MITRE ATT&CK tactic and techniques from Falco-style tags (``mitre_execution``, ``TA0002``, ``T1059.004``)."""

from __future__ import annotations

import re

TACTICS: dict[str, str] = {
    "TA0043": "Reconnaissance", "TA0042": "Resource Development", "TA0001": "Initial Access",
    "TA0002": "Execution", "TA0003": "Persistence", "TA0004": "Privilege Escalation",
    "TA0005": "Defense Evasion", "TA0006": "Credential Access", "TA0007": "Discovery",
    "TA0008": "Lateral Movement", "TA0009": "Collection", "TA0011": "Command and Control",
    "TA0010": "Exfiltration", "TA0040": "Impact",
}
_BY_TAG = {"mitre_" + name.lower().replace(" ", "_"): name for name in TACTICS.values()}
_TECHNIQUE = re.compile(r"^T\d{4}(?:\.\d{3})?$")


def tactic(tags: tuple[str, ...] | list[str]) -> str | None:
    """The first tactic named by the tags (``mitre_privilege_escalation`` -> ``Privilege Escalation``)."""
    for tag in tags:
        name = _BY_TAG.get(tag.lower()) or TACTICS.get(tag.upper())
        if name:
            return name
    return None


def techniques(tags: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The ATT&CK technique ids among the tags, in order."""
    return tuple(t for t in tags if _TECHNIQUE.match(t))
