"""Type stubs for `coownership` (the native module `coownership._coownership`)."""

from decimal import Decimal
from typing import Final, Literal, Mapping, Sequence, Union

Rules = Literal["strict", "seed", "seed-pg18"]
Policy = Literal["balanced", "seed"]
AssociationType = Literal["individual", "tenants_in_common", "joint_ownership"]
JsonDocument = Union[str, bytes, Mapping[str, object], Mapping[int, object]]

LIMITS: Final[Mapping[str, int]]
"""The strict rules' limits (`max_bytes`, `max_depth`, `max_owners`): the Rust
crate's `Limits::DEFAULT` and the SQL's `ownership_limits()`."""

class Violation:
    """One thing wrong with a document."""

    def __init__(self, code: str, key: str, message: str) -> None:
        """A violation with one of the crate's codes; `ValueError` for any other."""

    @property
    def code(self) -> str:
        """The stable snake_case code (the crate's `ViolationCode`), e.g. `total_not_100`."""
    @property
    def key(self) -> str:
        """The key concerned: an owner id, `joint_owners`, or `""` for the whole document."""
    @property
    def message(self) -> str:
        """A message a support engineer can act on."""
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...

class OwnershipError(ValueError):
    """A document that is not a valid ownership; `violations` says why."""

    violations: list[Violation]

class Ownership:
    """A valid ownership: every instance follows the strict rules."""

    @staticmethod
    def parse(text: JsonDocument) -> Ownership:
        """Reads a document (JSON text or a dict) under the strict rules; raises `OwnershipError`
        with every violation."""
    @staticmethod
    def individual(owner_id: int) -> Ownership:
        """One owner at 100.00 %."""
    @staticmethod
    def tenants_in_common(shares: Mapping[int, Union[Decimal, str, int, float]]) -> Ownership:
        """Shares in hundredths of a percent, totalling exactly 100.00; raises `ValueError` otherwise."""
    @staticmethod
    def joint(owner_ids: Sequence[int]) -> Ownership:
        """Two or more distinct owners, undivided; raises `ValueError` otherwise."""
    @property
    def association_type(self) -> AssociationType: ...
    @property
    def owners(self) -> dict[int, Decimal]:
        """`{owner_id: percentage}` in owner order (joint owners: 100 / n each)."""
    def to_json(self) -> str:
        """The canonical JSON text."""
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...
    def __len__(self) -> int: ...

def validate(doc: JsonDocument, rules: Rules = "strict") -> list[Violation]:
    """Every violation of `doc` under `rules`; empty when valid. Raises `OwnershipError` for text
    that is not a JSON object, `TypeError` for other types."""

def is_valid(doc: JsonDocument, rules: Rules = "strict") -> bool:
    """Whether `doc` is valid under `rules`; text that is not a JSON object is not."""

def equal_split(owner_ids: Sequence[int], policy: Policy = "balanced") -> Ownership:
    """100 % split equally among the owners, in the order given."""

def apportion(
    amount: Union[Decimal, int, str, float], ownership: Ownership, decimals: int = 2
) -> list[tuple[int, Decimal]]:
    """`amount` split among the owners so that the parts add up exactly; never rounds the input."""
