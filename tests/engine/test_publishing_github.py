"""The GitHub publisher against a fake GitHub that answers as GitHub's REST API documents it:
status codes, bodies, the Link header's rel="next", rate-limit headers and validation errors."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import parse_qs

import httpx
import pytest

from patchit_provider.engine.models import (
    CheckResult,
    FileEdit,
    Incident,
    PatchProposal,
    PublicationKind,
    ValidationResult,
)
from patchit_provider.engine.patching import apply_edits, make_diff
from patchit_provider.engine.publishing import PublishError, publish
from patchit_provider.engine.publishing.github import MAX_BODY_CHARS, bound_body
from patchit_provider.engine.publishing.github_client import GitHubTarget

TOKEN = "ghp_" + "T" * 36
API = "https://api.github.com"
DOCS = "https://docs.github.com/rest"
NOW = 1_760_000_000.0


def sha(*parts: Any) -> str:
    return hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class Injected:
    method: str
    path: str
    status: int
    body: Any
    headers: dict[str, str]
    effect: Callable[[], None] | None = None


@dataclass
class FakeGitHub:
    """The endpoints PATCHIT calls, on one repository `acme/pipelines` (id 42)."""

    token: str = TOKEN
    max_per_page: int = 100
    requests: list[httpx.Request] = field(default_factory=list)
    refs: dict[str, str] = field(default_factory=dict)
    commits: dict[str, dict] = field(default_factory=dict)
    trees: dict[str, dict] = field(default_factory=dict)
    pulls: list[dict] = field(default_factory=list)
    comments: dict[int, list[str]] = field(default_factory=dict)
    labels: dict[int, list[str]] = field(default_factory=dict)
    injected: list[Injected] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.base_tree = sha("tree", "main")
        self.base = self.add_commit("initial pipeline", self.base_tree, [], {"name": "Dev", "email": "dev@example.com"})
        self.refs["heads/main"] = self.base

    # -- state helpers -----------------------------------------------------------------------
    def add_commit(self, message: str, tree: str, parents: list[str], author: dict) -> str:
        commit_sha = sha("commit", message, tree, parents, author)
        self.commits[commit_sha] = {
            "sha": commit_sha,
            "node_id": "C_" + commit_sha[:8],
            "url": f"{API}/repos/acme/pipelines/git/commits/{commit_sha}",
            "html_url": f"https://github.com/acme/pipelines/commit/{commit_sha}",
            "author": {**author, "date": "2026-01-01T00:00:00Z"},
            "committer": {**author, "date": "2026-01-01T00:00:00Z"},
            "message": message,
            "tree": {"sha": tree, "url": f"{API}/repos/acme/pipelines/git/trees/{tree}"},
            "parents": [{"sha": p, "url": f"{API}/repos/acme/pipelines/git/commits/{p}"} for p in parents],
            "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None},
        }
        return commit_sha

    def add_pull(self, head: str, base: str, title: str = "someone's PR", draft: bool = False) -> dict:
        number = len(self.pulls) + 1
        pull = {
            "id": 1000 + number,
            "number": number,
            "state": "open",
            "title": title,
            "draft": draft,
            "body": "",
            "url": f"{API}/repos/acme/pipelines/pulls/{number}",
            "html_url": f"https://github.com/acme/pipelines/pull/{number}",
            "head": {
                "label": f"acme:{head}",
                "ref": head,
                "sha": self.refs.get(f"heads/{head}", self.base),
                "repo": {"full_name": "acme/pipelines"},
            },
            "base": {
                "label": f"acme:{base}",
                "ref": base,
                "sha": self.refs.get(f"heads/{base}", self.base),
                "repo": {"full_name": "acme/pipelines"},
            },
        }
        self.pulls.append(pull)
        return pull

    def inject(
        self,
        method: str,
        path: str,
        status: int,
        body: Any,
        headers: dict[str, str] | None = None,
        effect: Callable[[], None] | None = None,
    ) -> None:
        """Answer the next `method` request whose path ends with `path` this way, once."""
        self.injected.append(Injected(method, path, status, body, headers or {}, effect))

    def calls(self) -> list[str]:
        return [f"{r.method} {r.url.path}" for r in self.requests]

    def bodies(self, method: str, suffix: str) -> list[Any]:
        return [json.loads(r.content) for r in self.requests if r.method == method and r.url.path.endswith(suffix)]

    # -- the API -----------------------------------------------------------------------------
    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert request.headers["accept"] == "application/vnd.github+json"
        assert request.headers["x-github-api-version"] == "2022-11-28"
        assert request.extensions["timeout"]["read"]  # every call has a timeout
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return self.reply(401, {"message": "Bad credentials", "documentation_url": DOCS, "status": "401"})
        path = request.url.path
        for item in self.injected:
            if item.method == request.method and path.endswith(item.path):
                self.injected.remove(item)
                if item.effect:
                    item.effect()
                return self.reply(item.status, item.body, item.headers)
        body = json.loads(request.content) if request.content else None
        for pattern, method, route in ROUTES:
            match = re.fullmatch(pattern, path)
            if match and method == request.method:
                return route(self, request, body, *match.groups())
        return self.reply(404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"})

    @staticmethod
    def reply(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
        base = {
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": "4999",
            "x-ratelimit-reset": str(int(NOW) + 3600),
            "x-ratelimit-used": "1",
            "x-ratelimit-resource": "core",
        }
        return httpx.Response(status, json=body, headers={**base, **(headers or {})})

    def invalid(self, message: str, errors: list[dict] | None = None) -> httpx.Response:
        return self.reply(422, {"message": message, "errors": errors or [], "documentation_url": DOCS, "status": "422"})

    def get_repo(self, request, body):
        return self.reply(
            200,
            {
                "id": 42,
                "full_name": "acme/pipelines",
                "default_branch": "main",
                "html_url": "https://github.com/acme/pipelines",
            },
        )

    def list_pulls(self, request, body):
        query = parse_qs(request.url.query.decode())
        head, state = query.get("head", [None])[0], query.get("state", ["open"])[0]
        per_page = min(int(query.get("per_page", ["30"])[0]), self.max_per_page)
        page = int(query.get("page", ["1"])[0])
        found = [
            p
            for p in self.pulls
            if (state == "all" or p["state"] == state) and (head is None or p["head"]["label"] == head)
        ]
        items = found[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(found):  # GitHub's next link names the repository by id
            nxt = f"{API}/repositories/42/pulls?head={head}&state={state}&per_page={per_page}&page={page + 1}"
            headers["link"] = f'<{nxt}>; rel="next", <{nxt}>; rel="last"'
        return self.reply(200, items, headers)

    def get_ref(self, request, body, ref):
        if ref not in self.refs:
            return self.reply(404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"})
        return self.reply(200, self.ref_object(ref))

    def ref_object(self, ref: str) -> dict:
        target = self.refs[ref]
        return {
            "ref": f"refs/{ref}",
            "node_id": "REF_1",
            "url": f"{API}/repos/acme/pipelines/git/refs/{ref}",
            "object": {"type": "commit", "sha": target, "url": f"{API}/repos/acme/pipelines/git/commits/{target}"},
        }

    def get_commit(self, request, body, commit_sha):
        if commit_sha not in self.commits:
            return self.reply(404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"})
        return self.reply(200, self.commits[commit_sha])

    def create_tree(self, request, body):
        for entry in body["tree"]:
            if entry["mode"] not in ("100644", "100755", "040000", "160000", "120000") or entry["type"] != "blob":
                return self.invalid("Invalid tree info", [{"resource": "Tree", "field": "tree", "code": "invalid"}])
            if ("content" in entry) == ("sha" in entry):
                return self.invalid("Must supply tree.sha or tree.content")
        tree_sha = sha("tree", body)
        self.trees[tree_sha] = body
        return self.reply(
            201,
            {
                "sha": tree_sha,
                "url": f"{API}/repos/acme/pipelines/git/trees/{tree_sha}",
                "tree": [{"path": e["path"], "mode": e["mode"], "type": "blob", "sha": sha(e)} for e in body["tree"]],
                "truncated": False,
            },
        )

    def create_commit(self, request, body):
        if body["tree"] not in self.trees or any(p not in self.commits for p in body["parents"]):
            return self.invalid("Tree SHA does not exist")
        commit_sha = self.add_commit(body["message"], body["tree"], body["parents"], body["author"])
        return self.reply(201, self.commits[commit_sha])

    def create_ref(self, request, body):
        ref = body["ref"]
        if not ref.startswith("refs/") or ref.count("/") < 2:
            return self.invalid("ref must be fully qualified")
        if body["sha"] not in self.commits:
            return self.invalid("Object does not exist")
        if ref[5:] in self.refs:
            return self.reply(422, {"message": "Reference already exists", "documentation_url": DOCS, "status": "422"})
        self.refs[ref[5:]] = body["sha"]
        return self.reply(201, self.ref_object(ref[5:]))

    def update_ref(self, request, body, ref):
        if ref not in self.refs:
            return self.invalid("Reference does not exist")
        if not body.get("force") and {"sha": self.refs[ref]} not in self.commits[body["sha"]]["parents"]:
            return self.invalid("Update is not a fast forward")
        self.refs[ref] = body["sha"]
        return self.reply(200, self.ref_object(ref))

    def create_pull(self, request, body):
        if len(body.get("body") or "") > 65_536:
            return self.invalid(
                "Validation Failed",
                [
                    {
                        "resource": "PullRequest",
                        "code": "custom",
                        "field": "body",
                        "message": "body is too long (maximum is 65536 characters)",
                    }
                ],
            )
        if f"heads/{body['head']}" not in self.refs:
            return self.invalid("Validation Failed", [{"resource": "PullRequest", "field": "head", "code": "invalid"}])
        if any(
            p["state"] == "open" and p["head"]["ref"] == body["head"] and p["base"]["ref"] == body["base"]
            for p in self.pulls
        ):
            return self.invalid(
                "Validation Failed",
                [
                    {
                        "resource": "PullRequest",
                        "code": "custom",
                        "message": f"A pull request already exists for acme:{body['head']}.",
                    }
                ],
            )
        pull = self.add_pull(body["head"], body["base"], body["title"], bool(body.get("draft")))
        pull["body"] = body.get("body")
        return self.reply(201, pull)

    def add_labels(self, request, body, number):
        self.labels.setdefault(int(number), []).extend(body["labels"])
        return self.reply(
            200,
            [
                {
                    "id": i,
                    "node_id": f"L_{i}",
                    "url": f"{API}/repos/acme/pipelines/labels/{name}",
                    "name": name,
                    "color": "ededed",
                    "default": False,
                    "description": None,
                }
                for i, name in enumerate(self.labels[int(number)])
            ],
        )

    def add_comment(self, request, body, number):
        if int(number) > len(self.pulls):
            return self.reply(404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"})
        self.comments.setdefault(int(number), []).append(body["body"])
        comment_id = 500 + sum(len(c) for c in self.comments.values())
        return self.reply(
            201,
            {
                "id": comment_id,
                "body": body["body"],
                "html_url": f"https://github.com/acme/pipelines/pull/{number}#issuecomment-{comment_id}",
            },
        )


REPO = r"/(?:repos/acme/pipelines|repositories/42)"
ROUTES = [
    (REPO, "GET", FakeGitHub.get_repo),
    (REPO + "/pulls", "GET", FakeGitHub.list_pulls),
    (REPO + "/pulls", "POST", FakeGitHub.create_pull),
    (REPO + r"/git/ref/(heads/.+)", "GET", FakeGitHub.get_ref),
    (REPO + r"/git/refs/(heads/.+)", "PATCH", FakeGitHub.update_ref),
    (REPO + "/git/refs", "POST", FakeGitHub.create_ref),
    (REPO + r"/git/commits/([0-9a-f]{40})", "GET", FakeGitHub.get_commit),
    (REPO + "/git/commits", "POST", FakeGitHub.create_commit),
    (REPO + "/git/trees", "POST", FakeGitHub.create_tree),
    (REPO + r"/issues/(\d+)/labels", "POST", FakeGitHub.add_labels),
    (REPO + r"/issues/(\d+)/comments", "POST", FakeGitHub.add_comment),
]


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def fake() -> FakeGitHub:
    return FakeGitHub()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def target(fake, sleeps):
    def make(**overrides: Any) -> GitHubTarget:
        settings = dict(
            repository="acme/pipelines",
            token=TOKEN,
            transport=httpx.MockTransport(fake.handler),
            sleep=sleeps.append,
            clock=lambda: NOW,
            incident_url="https://airflow.example.com/patchit/incidents/{incident_id}",
        )
        return GitHubTarget(**{**settings, **overrides})

    return make


@pytest.fixture
def case(patch_nameerror):
    """The real NameError, with a validated two-file proposal (the second file fixes `uper`)."""
    case = patch_nameerror
    edits = [
        FileEdit(path="dags/orders.py", search="return totl * 2", replace="return total * 2"),
        FileEdit(path="etl/text.py", search="word.uper()", replace="word.upper()"),
    ]
    contents = apply_edits(case.root, edits)
    proposal = PatchProposal(
        producer="fixer:did_you_mean",
        edits=edits,
        diff=make_diff(case.root, contents),
        files=sorted(contents),
        rationale="Python names `total` as the intended name.",
    )
    validation = ValidationResult(
        passed=True,
        replay="reproduced_and_fixed",
        checks=[CheckResult(name="replay", passed=True, output="unpatched: NameError | patched: ok")],
    )
    incident = Incident(
        incident_id="inc-0123456789ab",
        event=case.event,
        fingerprint=case.triage.fingerprint,
        evidence=case.evidence,
        triage=case.triage,
        patch=proposal,
        validation=validation,
    )
    return case, proposal, incident, contents


def again(incident: Incident, run_id: str = "scheduled__2024-01-02") -> Incident:
    """A second incident of the same failure (same fingerprint) in another run."""
    event = incident.event.model_copy(update={"run_id": run_id, "event_id": ""})
    return incident.model_copy(
        update={"incident_id": "inc-second000001", "event": event.model_copy(update={"event_id": event.natural_key()})}
    )


# -- tests ---------------------------------------------------------------------------------------


def test_opens_a_draft_pr_with_one_commit_holding_every_file(fake, target, case):
    c, proposal, incident, contents = case
    publication = publish(proposal, incident, c.root, "github", github=target())
    branch = f"patchit/{c.triage.fingerprint}"
    assert fake.calls() == [
        "GET /repos/acme/pipelines",
        "GET /repos/acme/pipelines/pulls",
        "GET /repos/acme/pipelines/git/ref/heads/main",
        f"GET /repos/acme/pipelines/git/commits/{fake.base}",
        "POST /repos/acme/pipelines/git/trees",
        "POST /repos/acme/pipelines/git/commits",
        "POST /repos/acme/pipelines/git/refs",
        "POST /repos/acme/pipelines/pulls",
        "POST /repos/acme/pipelines/issues/1/labels",
    ]
    assert parse_qs(fake.requests[1].url.query.decode()) == {
        "head": [f"acme:{branch}"],
        "state": ["open"],
        "per_page": ["100"],
    }
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in fake.requests)

    [tree] = fake.bodies("POST", "/git/trees")
    assert tree["base_tree"] == fake.base_tree
    assert tree["tree"] == [
        {"path": path, "mode": "100644", "type": "blob", "content": text} for path, text in sorted(contents.items())
    ]
    assert "return total * 2" in contents["dags/orders.py"] and "word.upper()" in contents["etl/text.py"]
    [commit] = fake.bodies("POST", "/git/commits")
    assert commit["parents"] == [fake.base] and commit["author"]["name"] == commit["committer"]["name"] == "PATCHIT"
    assert commit["message"].startswith("PATCHIT: fix NameError in dags/orders.py\n\nPython names")
    assert fake.bodies("POST", "/git/refs") == [{"ref": f"refs/heads/{branch}", "sha": publication.commit}]
    assert fake.refs[f"heads/{branch}"] == publication.commit

    [pull] = fake.bodies("POST", "/pulls")
    assert (pull["head"], pull["base"], pull["draft"]) == (branch, "main", True)
    assert pull["title"] == "PATCHIT: fix NameError in dags/orders.py"
    assert pull["body"] == publication.description_md
    for part in (
        "## Root cause",
        "## Evidence",
        "```diff",
        "## Validation",
        "fixer:did_you_mean",
        "| replay | passed |",
    ):
        assert part in pull["body"]
    assert fake.bodies("POST", "/labels") == [{"labels": ["patchit", "code.error"]}]

    assert publication.kind is PublicationKind.GITHUB
    assert (publication.branch, publication.pr_number) == (branch, 1)
    assert publication.url == "https://github.com/acme/pipelines/pull/1"
    assert fake.pulls[0]["draft"] is True and len(fake.pulls) == 1


def test_configured_base_branch_labels_and_enterprise_url(fake, target, case):
    c, proposal, incident, _ = case
    fake.refs["heads/develop"] = fake.base
    handler = fake.handler

    def enterprise(request: httpx.Request) -> httpx.Response:
        assert str(request.url).startswith("https://ghe.example.com/api/v3/")
        url = request.url.copy_with(path=request.url.path.removeprefix("/api/v3"))
        return handler(
            httpx.Request(
                request.method, url, headers=request.headers, content=request.content, extensions=request.extensions
            )
        )

    publish(
        proposal,
        incident,
        c.root,
        "github",
        github=target(
            api_url="https://ghe.example.com/api/v3/",
            base_branch="develop",
            labels=("bot", "patchit", "code.error"),
            transport=httpx.MockTransport(enterprise),
        ),
    )
    assert "GET /repos/acme/pipelines" not in fake.calls()  # the base is configured: no default-branch lookup
    assert fake.bodies("POST", "/pulls")[0]["base"] == "develop"
    assert fake.bodies("POST", "/labels") == [{"labels": ["bot", "patchit", "code.error"]}]


def test_a_second_incident_comments_on_the_open_pr(fake, target, case):
    c, proposal, incident, _ = case
    first = publish(proposal, incident, c.root, "github", github=target())
    fake.requests.clear()
    second = publish(proposal, again(incident), c.root, "github", github=target())
    assert fake.calls() == [
        "GET /repos/acme/pipelines",
        "GET /repos/acme/pipelines/pulls",
        "POST /repos/acme/pipelines/issues/1/comments",
    ]
    assert len(fake.pulls) == 1 and (second.pr_number, second.url, second.commit) == (1, first.url, first.commit)
    assert second.reused and not first.reused
    [comment] = fake.comments[1]
    assert "scheduled__2024-01-02" in comment and "again" in comment
    assert "(https://airflow.example.com/patchit/incidents/inc-second000001)" in comment
    assert again(incident).event.detected_at.isoformat(timespec="seconds") in comment


def test_pages_are_followed_to_find_the_pr_into_the_base(fake, target, case):
    c, proposal, incident, _ = case
    branch = f"patchit/{c.triage.fingerprint}"
    fake.refs[f"heads/{branch}"] = fake.base
    fake.add_pull("feature/x", "main")
    fake.add_pull(branch, "release-1")
    fake.add_pull(branch, "release-2")
    ours = fake.add_pull(branch, "main")
    fake.max_per_page = 1  # GitHub may answer fewer than per_page; the Link header says where the rest is
    publication = publish(proposal, incident, c.root, "github", github=target())
    lists = [r for r in fake.requests if r.method == "GET" and r.url.path.endswith("/pulls")]
    assert [r.url.path for r in lists] == [
        "/repos/acme/pipelines/pulls",
        "/repositories/42/pulls",
        "/repositories/42/pulls",
    ]
    assert publication.pr_number == ours["number"] and list(fake.comments) == [ours["number"]]
    assert len(fake.pulls) == 4


def test_bad_token_is_a_clear_error_without_retries(fake, target, case):
    c, proposal, incident, _ = case
    with pytest.raises(PublishError, match=r"401: Bad credentials.*token of the GitHub connection"):
        publish(proposal, incident, c.root, "github", github=target(token="ghp_" + "X" * 36))
    assert len(fake.requests) == 1 and not fake.pulls


def test_primary_rate_limit_waits_until_the_reset(fake, target, sleeps, case):
    c, proposal, incident, _ = case
    limited = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 30), "x-ratelimit-used": "5000"}
    fake.inject(
        "GET", "/pulls", 403, {"message": "API rate limit exceeded for user ID 1.", "documentation_url": DOCS}, limited
    )
    publication = publish(proposal, incident, c.root, "github", github=target())
    assert sleeps == [31.0] and publication.pr_number == 1
    assert fake.calls().count("GET /repos/acme/pipelines/pulls") == 2


def test_secondary_rate_limit_and_server_errors_are_retried(fake, target, sleeps, case):
    c, proposal, incident, _ = case
    fake.inject(
        "POST",
        "/pulls",
        403,
        {
            "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
            "documentation_url": DOCS,
        },
        {"retry-after": "7"},
    )
    fake.inject("POST", "/git/trees", 502, {"message": "Server Error"})
    fake.inject("POST", "/labels", 429, {"message": "You have exceeded a secondary rate limit."})
    publish(proposal, incident, c.root, "github", github=target())
    assert sleeps == [1.0, 7.0, 60.0] and len(fake.pulls) == 1 and fake.labels[1] == ["patchit", "code.error"]


def test_a_rate_limit_longer_than_we_wait_is_an_error(fake, target, sleeps, case):
    c, proposal, incident, _ = case
    limited = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 3000)}
    fake.inject(
        "GET", "/pulls", 403, {"message": "API rate limit exceeded for user ID 1.", "documentation_url": DOCS}, limited
    )
    with pytest.raises(PublishError, match=r"403: API rate limit exceeded.*rate limited for 3001s more"):
        publish(proposal, incident, c.root, "github", github=target())
    assert sleeps == []


def test_retries_are_bounded(fake, target, sleeps, case):
    c, proposal, incident, _ = case
    for _ in range(3):
        fake.inject("GET", "/acme/pipelines", 503, {"message": "Service Unavailable"})
    with pytest.raises(PublishError, match="503: Service Unavailable"):
        publish(proposal, incident, c.root, "github", github=target(max_retries=2))
    assert sleeps == [1.0, 2.0] and len(fake.requests) == 3


def test_a_post_that_may_have_arrived_is_not_repeated(fake, target, sleeps, case):
    c, proposal, incident, _ = case
    handler = fake.handler

    def flaky(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/pulls"):
            raise httpx.ReadTimeout("timed out", request=request)
        if request.url.path.endswith("/git/trees") and not fake.trees and sleeps == []:
            raise httpx.ConnectError("connection refused", request=request)
        return handler(request)

    with pytest.raises(PublishError, match="POST /repos/acme/pipelines/pulls failed after 1 attempt"):
        publish(proposal, incident, c.root, "github", github=target(transport=httpx.MockTransport(flaky)))
    assert sleeps == [1.0]  # the refused connection was retried, the timed-out POST was not


def test_an_existing_patchit_branch_is_moved_by_force(fake, target, case):
    c, proposal, incident, _ = case
    branch = f"patchit/{c.triage.fingerprint}"
    old = fake.add_commit(
        "older PATCHIT fix", fake.base_tree, [fake.base], {"name": "PATCHIT", "email": "patchit@localhost"}
    )
    fake.refs[f"heads/{branch}"] = old  # left by a run whose PR was closed
    publication = publish(proposal, incident, c.root, "github", github=target())
    assert fake.bodies("PATCH", f"/git/refs/heads/{branch}") == [{"sha": publication.commit, "force": True}]
    assert fake.refs[f"heads/{branch}"] == publication.commit and publication.pr_number == 1


def test_an_existing_branch_of_a_person_is_never_overwritten(fake, target, case):
    c, proposal, incident, _ = case
    branch = f"patchit/{c.triage.fingerprint}"
    theirs = fake.add_commit("my own work", fake.base_tree, [fake.base], {"name": "Dev", "email": "dev@example.com"})
    fake.refs[f"heads/{branch}"] = theirs
    with pytest.raises(PublishError, match=r"already exists .* not made by PATCHIT \(Dev <dev@example.com>\)"):
        publish(proposal, incident, c.root, "github", github=target())
    assert fake.refs[f"heads/{branch}"] == theirs and not fake.pulls
    assert not any(r.method == "PATCH" for r in fake.requests)


def test_a_pr_opened_meanwhile_is_used_instead_of_a_second(fake, target, case):
    c, proposal, incident, _ = case
    branch = f"patchit/{c.triage.fingerprint}"
    exists = {
        "message": "Validation Failed",
        "documentation_url": DOCS,
        "status": "422",
        "errors": [
            {
                "resource": "PullRequest",
                "code": "custom",
                "message": f"A pull request already exists for acme:{branch}.",
            }
        ],
    }
    fake.inject(
        "POST",
        "/pulls",
        422,
        exists,
        effect=lambda: fake.add_pull(branch, "main", "PATCHIT (other worker)", draft=True),
    )
    publication = publish(proposal, incident, c.root, "github", github=target())
    assert publication.pr_number == 1 and len(fake.pulls) == 1 and not fake.labels


def test_other_validation_errors_carry_githubs_message(fake, target, case):
    c, proposal, incident, _ = case
    fake.inject(
        "POST",
        "/pulls",
        422,
        {
            "message": "Validation Failed",
            "documentation_url": DOCS,
            "errors": [{"resource": "PullRequest", "field": "base", "code": "invalid"}],
        },
    )
    with pytest.raises(PublishError, match=r"422: Validation Failed \(resource=PullRequest field=base code=invalid\)"):
        publish(proposal, incident, c.root, "github", github=target())


def test_secrets_in_the_evidence_never_reach_github(fake, target, case):
    c, proposal, incident, _ = case
    secrets = ["hunter2-Sup3rS3cret", "AKIAIOSFODNN7EXAMPLE", "ghp_" + "a1B2" * 9, "xoxb-1234567890-abcdefghij"]
    lines = [f"password={secrets[0]}", f"aws key {secrets[1]}", f"Authorization: token {secrets[2]}"]
    triage = c.triage.model_copy(
        update={"evidence_lines": lines, "summary": f"failed with {secrets[2]} and {secrets[3]}"}
    )
    incident = incident.model_copy(update={"triage": triage})
    publish(proposal, incident, c.root, "github", github=target())
    publish(proposal, again(incident, run_id=f"manual__token={secrets[2]}"), c.root, "github", github=target())
    sent = "".join(r.content.decode() for r in fake.requests)
    assert "## Evidence" in fake.pulls[0]["body"] and fake.comments[1]
    # escaping (ghp\_..., xoxb\-...) must not hide a secret from redaction either
    assert not any(secret in sent.replace("\\", "") for secret in secrets)


def test_the_body_is_bounded_with_every_fence_closed(fake, target, case):
    c, proposal, incident, _ = case
    lines = ["``` not a fence", "x" * 120] * 1500  # ~190k characters of evidence
    incident = incident.model_copy(update={"triage": c.triage.model_copy(update={"evidence_lines": lines})})
    publication = publish(proposal, incident, c.root, "github", github=target())
    body = fake.pulls[0]["body"]
    assert body == publication.description_md and len(body) <= MAX_BODY_CHARS
    assert body.rstrip().endswith(
        "_Truncated to GitHub's size limit: the full description is in PATCHIT's incident record._"
    )
    fences = [line for line in body.splitlines() if re.fullmatch(r"`{4,}(text)?", line)]
    assert len(fences) == 2 and fences[1] == "````"  # opened by the evidence block, closed after the cut


def test_bound_body_leaves_short_text_alone_and_cuts_at_a_line():
    assert bound_body("short\n") == "short\n"
    cut = bound_body("line\n" * 100, limit=400)
    assert len(cut) <= 400 and cut.startswith("line\nline\n") and "\nlin\n" not in cut


def test_edits_that_no_longer_apply_publish_nothing(fake, target, case):
    c, proposal, incident, _ = case
    (c.root / "etl" / "text.py").write_text("def shout(word):\n    return word\n")
    with pytest.raises(PublishError, match="no longer apply"):
        publish(proposal, incident, c.root, "github", github=target())
    assert fake.requests == []


def test_github_mode_needs_a_target_and_a_valid_repository(case):
    c, proposal, incident, _ = case
    with pytest.raises(PublishError, match="patchit_github connection"):
        publish(proposal, incident, c.root, "github")
    with pytest.raises(ValueError, match="owner/name"):
        GitHubTarget(repository="pipelines", token=TOKEN)
    with pytest.raises(ValueError, match="token"):
        GitHubTarget(repository="acme/pipelines", token="")
    assert TOKEN not in repr(GitHubTarget(repository="acme/pipelines", token=TOKEN))
