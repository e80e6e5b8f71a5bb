"""The README's screenshots, from a real browser: ``python -m tests.screenshots [--out DIR]``.

Starts Twofold as the end-to-end tests do (``twofold migrate`` then ``twofold serve`` on a free
port, a fresh data directory), writes an account with a few members into its database
(:func:`seed`), then signs in with Chromium and saves ``docs/screenshots/<page>.png`` (or under
``DIR``) for each of :data:`PAGES`. ``tests/test_screenshots.py`` runs it into a temporary
directory, so a page it can no longer reach fails the suite. Run it again after changing a page,
and commit the PNGs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import django

if "DJANGO_SETTINGS_MODULE" not in os.environ:
    # The test helpers below import models; this process's own settings keep their files in a
    # directory that goes with it (the server's data directory is another).
    _OWN = tempfile.TemporaryDirectory(prefix="twofold-screenshots-driver-")
    os.environ["TWOFOLD_DATA_DIR"] = _OWN.name
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
django.setup()

from playwright.sync_api import Page, Response  # noqa: E402

from tests.conftest import PASSWORD  # noqa: E402
from tests.e2e.conftest import REPO_ROOT, TwofoldServer, _free_port, chromium, serve  # noqa: E402

OUT = REPO_ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 1100, "height": 720}

ACCOUNT = "Acme"
ADMINISTRATOR = "ada@acme.example"
ADMINISTRATOR_PHONE = "+41791234567"
MEMBER_WITHOUT_2FA = "carol@acme.example"

# The file names, in the order they are taken: what the README and docs/screenshots.md show.
PAGES = ("sign-in", "two-factor-step", "account-security", "members", "two-factor-setup")

SEED = "import django; django.setup(); from tests.screenshots import seed; seed()"
SMS_CODE = re.compile(r"#(\d{6})\s*$")
SMS_TIMEOUT = 10.0


def seed() -> None:
    """Run inside the server's environment: Ada's account (created by ``create-account``) gets
    her SMS 2FA, three members (two with 2FA, one without) and a pending invitation."""
    from allauth.account.models import EmailAddress

    from tests.conftest import give_sms_factor, give_totp_factor
    from twofold.organizations import flows
    from twofold.organizations.models import Membership, Role
    from twofold.users.models import User

    administrator = Membership.objects.get(user__email=ADMINISTRATOR)
    User.objects.filter(pk=administrator.user_id).update(name="Ada Lovelace")
    give_sms_factor(administrator, ADMINISTRATOR_PHONE)
    people = [
        ("bob@acme.example", "Bob Builder", Role.ADMINISTRATOR),
        (MEMBER_WITHOUT_2FA, "Carol Shaw", Role.MEMBER),
        ("dan@acme.example", "Dan Bricklin", Role.MEMBER),
    ]
    members = []
    for email, name, role in people:
        user = User.objects.create_user(email, PASSWORD, name=name)
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
        members.append(
            Membership.objects.create(user=user, organization=administrator.organization, role=role)
        )
    give_sms_factor(members[0], "+41797654321")
    give_totp_factor(members[2])
    flows.invite_member(administrator, "erin@acme.example")


def _seed(server: TwofoldServer) -> None:
    server.cli(
        "create-account",
        "--email",
        ADMINISTRATOR,
        "--name",
        ACCOUNT,
        "--password-stdin",
        input=PASSWORD,
    )
    environ = {
        **server.environ,
        "DJANGO_SETTINGS_MODULE": "twofold.config.settings",
        "PYTHONPATH": str(REPO_ROOT),  # ``tests`` is importable from the data directory
    }
    done = subprocess.run(
        [sys.executable, "-c", SEED],
        env=environ,
        cwd=server.data_dir,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"seeding failed:\n{done.stderr}")


def _sms_code(server: TwofoldServer, to: str) -> str:
    outbox = server.data_dir / "sms-outbox.jsonl"
    deadline = time.monotonic() + SMS_TIMEOUT
    while time.monotonic() < deadline:
        lines = outbox.read_text().splitlines() if outbox.exists() else []
        texts = [json.loads(line) for line in lines if line.strip()]
        for text in reversed(texts):
            found = SMS_CODE.search(text["body"])
            if text["to"] == to and found:
                return found.group(1)
        time.sleep(0.1)
    raise RuntimeError(f"no text to {to} in {outbox}")


class Camera:
    """Saves each page once it has loaded; refuses a page the server answered with an error."""

    def __init__(self, page: Page, out: Path) -> None:
        self.page, self.out = page, out
        self.errors: list[str] = []
        page.on("response", self._on_response)

    def _on_response(self, response: Response) -> None:
        if response.status >= 400:
            self.errors.append(f"HTTP {response.status} for {response.url}")

    def goto(self, path: str) -> None:
        self.page.goto(path)

    def shot(self, name: str, *, at: str) -> Path:
        self.page.wait_for_url(re.compile(re.escape(at) + r"(\?.*)?$"))
        self.page.wait_for_load_state("networkidle")
        if self.errors:
            raise RuntimeError(f"{name}: " + "; ".join(self.errors))
        path = self.out / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


def _sign_in_with_password(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    page.locator('input[name="login"]').fill(email)
    page.locator('input[name="password"]').fill(PASSWORD)
    page.locator('form:has(input[name="password"]) button[type="submit"]').first.click()


def _submit_code(page: Page, code: str) -> None:
    page.locator('input[name="code"]').fill(code)
    page.locator('form:has(input[name="code"]) button[type="submit"]').first.click()


def take(server: TwofoldServer, out: Path) -> list[Path]:
    """Every page of :data:`PAGES`, as two members see it, into ``out``."""
    taken = []
    with chromium() as browser:
        for who in (ADMINISTRATOR, MEMBER_WITHOUT_2FA):
            context = browser.new_context(base_url=server.url, viewport=VIEWPORT)
            context.set_default_timeout(15_000)
            camera = Camera(context.new_page(), out)
            page = camera.page
            if who == ADMINISTRATOR:
                camera.goto("/accounts/login/")
                taken.append(camera.shot("sign-in", at="/accounts/login/"))
                _sign_in_with_password(page, who)
                taken.append(camera.shot("two-factor-step", at="/accounts/2fa/"))
                _submit_code(page, _sms_code(server, ADMINISTRATOR_PHONE))
                page.wait_for_url(f"{server.url}/")
                camera.goto("/account/")
                taken.append(camera.shot("account-security", at="/account/"))
                camera.goto("/account/members/")
                taken.append(camera.shot("members", at="/account/members/"))
            else:
                _sign_in_with_password(page, who)
                page.wait_for_url(f"{server.url}/")
                camera.goto("/settings/security/2fa/enable/")
                taken.append(camera.shot("two-factor-setup", at="/settings/security/2fa/enable/"))
            context.close()
    return taken


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.screenshots", description=__doc__)
    parser.add_argument("--out", type=Path, default=OUT, help=f"default {OUT}")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="twofold-screenshots-") as data_dir,
        serve(Path(data_dir), _free_port()) as server,
    ):
        _seed(server)
        for path in take(server, args.out):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
