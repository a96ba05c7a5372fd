"""The rule registry: one module per rule, one line per rule here."""
from .km101_tape_call_without_training import TapeCallWithoutTraining

ALL_RULES = [
    TapeCallWithoutTraining,
]

RULES_BY_CODE = {rule.code: rule for rule in ALL_RULES}
