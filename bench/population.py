"""Who the seeded members are: derived from their number, so the seeder and the driver agree
without sharing a file (a million members would make a large one)."""

from __future__ import annotations

from dataclasses import dataclass

PASSWORD = "bench-sign-in-passphrase"
ACCOUNT_SIZE = 10


@dataclass(frozen=True)
class Member:
    index: int

    @property
    def account(self) -> int:
        return self.index // ACCOUNT_SIZE

    @property
    def email(self) -> str:
        return f"member{self.index}@account{self.account}.bench.test"

    @property
    def has_sms(self) -> bool:
        """Half the members, five in every account of ten, have SMS 2FA."""
        return self.index % 2 == 1

    @property
    def phone(self) -> str:
        # Swiss mobile numbers (E.164), one per member.
        return f"+4179{self.index:07d}"


def members(count: int) -> list[Member]:
    return [Member(i) for i in range(count)]
