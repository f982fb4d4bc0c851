"""Docker's registry codes, daemon messages and container statuses (catalogs/docker.py) and git's
fatal messages (catalogs/git.py): messages as posted in public threads, look-alikes of other
engines that must not be claimed, and the tables' categories."""

from __future__ import annotations

import pytest

from patchit_provider.engine.taxonomy import Category
from patchit_provider.engine.triage.catalogs import docker, git
from patchit_testing import triage_text

PROVIDER = (
    "https://github.com/apache/airflow/blob/main/providers/docker/src/airflow/providers/docker/operators/docker.py"
)


def _tb(line: str) -> str:
    return f'Traceback (most recent call last):\n  File "/opt/dags/job.py", line 3, in <module>\n    run()\n{line}\n'


# (source, output as posted, category, remediation, what decides); a Python exception line is
# put under a traceback, a CLI's output is triaged as it was printed
POSTED = [
    # --- Docker: the daemon's pull refusal, the registry's codes ----------------------------------
    (
        "https://github.com/moby/moby/issues/36915",
        "docker: Error response from daemon: pull access denied for ndtar, repository does not exist or may "
        "require 'docker login'.\n",
        "config.missing",
        "escalate",
        "Docker error pull access denied",
    ),
    (
        "https://github.com/openzim/zimfarm/issues/456",
        _tb(
            'docker.errors.ImageNotFound: 404 Client Error: Not Found ("pull access denied for sha256, repository '
            "does not exist or may require 'docker login'\")"
        ),
        "config.missing",
        "escalate",
        "Docker error pull access denied",
    ),
    (
        "https://github.com/sixeyed/docker-on-windows/issues/13",
        "Unable to find image 'dockeronwindows/ch03-nerd-dinner-web:2e-v2' locally\nC:\\Program Files\\Docker\\"
        "docker.exe: Error response from daemon: manifest for dockeronwindows/ch03-nerd-dinner-web:2e-v2 not found: "
        "manifest unknown: manifest unknown.\n",
        "config.missing",
        "escalate",
        "Docker error MANIFEST_UNKNOWN",
    ),
    (
        "https://github.com/devcontainers/template-starter/issues/50",
        "PS C:\\Users\\maste> docker pull ghcr.io/devcontainers/color:latest\nError response from daemon: manifest unknown\n",
        "config.missing",
        "escalate",
        "Docker error MANIFEST_UNKNOWN",
    ),
    (
        "https://github.com/plexsystems/sinker/issues/55",
        "Error: push: image exists at remote: get image: GET https://<account-number>.dkr.ecr.ap-southeast-2."
        "amazonaws.com/v2/coreos/prometheus-operator/manifests/v0.40.0: NAME_UNKNOWN: The repository with name "
        "'coreos/prometheus-operator' does not exist in the registry with id '<account-number>'\n",
        "config.missing",
        "escalate",
        "Docker error NAME_UNKNOWN",
    ),
    (
        "https://github.com/aws-actions/amazon-ecr-login/issues/166",
        "name unknown: The repository with name 'service-t' does not exist in the registry with id '***'\n",
        "config.missing",
        "escalate",
        "Docker error NAME_UNKNOWN",
    ),
    (
        "https://github.com/minio/minio/issues/5552",
        "Using default tag: latest\nError response from daemon: Get https://registry-1.docker.io/v2/minio/minio/"
        "manifests/latest: unauthorized: incorrect username or password\n",
        "infra.auth",
        "escalate",
        "Docker error UNAUTHORIZED",
    ),
    (
        "https://github.com/docker/hub-feedback/issues/2429",
        "Error: ERROR: Error response from daemon: toomanyrequests: You have reached your pull rate limit. You may "
        "increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit\n",
        "infra.network",
        "retry",
        "Docker error TOOMANYREQUESTS",
    ),
    # --- Docker: the daemon's socket ---------------------------------------------------------------
    (
        "https://github.com/docker/docker-py/issues/3219",
        _tb(
            "docker.errors.DockerException: Error while fetching server API version: ('Connection aborted.', "
            "FileNotFoundError(2, 'No such file or directory'))"
        ),
        "config.missing",
        "escalate",
        "Docker error daemon socket missing",
    ),
    (
        "https://github.com/moby/moby/issues/32658",
        "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n",
        "infra.network",
        "retry",
        "Docker error daemon unreachable",
    ),
    (
        "https://github.com/actions/actions-runner-controller/issues/2538",
        "Got permission denied while trying to connect to the Docker daemon socket at unix:///run/docker/docker.sock: "
        'Get "http://%2Frun%2Fdocker%2Fdocker.sock/v1.24/containers/json": dial unix /run/docker/docker.sock: '
        "connect: permission denied\n",
        "infra.auth",
        "escalate",
        "Docker error daemon socket permission denied",
    ),
    # --- Docker: the container's command and platform, its exit status ----------------------------
    (
        "https://github.com/docker/for-linux/issues/726",
        "Error response from daemon: OCI runtime create failed: container_linux.go:348: starting container process "
        'caused "exec: \\"db:create\\": executable file not found in $PATH": unknown\n',
        "dependency.missing",
        "escalate",
        "Docker error executable file not found",
    ),
    (
        "https://github.com/caprover/caprover/issues/1378",
        'Deploy failed!\nError: {"message":"no matching manifest for linux/arm64/v8 in the manifest list entries"}\n',
        "dependency.missing",
        "escalate",
        "Docker error platform mismatch",
    ),
    (
        f"{PROVIDER} (DockerContainerFailedException(f'Docker container failed: {{result!r}}')); "
        "https://docs.docker.com/engine/containers/run/#exit-status",
        _tb(
            "airflow.providers.docker.exceptions.DockerContainerFailedException: Docker container failed: "
            "{'StatusCode': 137}"
        ),
        "infra.resource",
        "escalate",
        "Docker error exit status 137 (SIGKILL)",
    ),
    (
        f"{PROVIDER}; https://docs.docker.com/engine/containers/run/#exit-status (127: command not found)",
        _tb(
            "airflow.providers.docker.exceptions.DockerContainerFailedException: Docker container failed: "
            "{'StatusCode': 127}"
        ),
        "dependency.missing",
        "escalate",
        "Docker error exit status 127",
    ),
    # --- git: credentials ---------------------------------------------------------------------------
    (
        "https://github.com/nautobot/nautobot-app-golden-config/issues/29",
        _tb(
            "git.exc.GitCommandError: Cmd('git') failed due to: exit code(128) cmdline: git push --porcelain origin "
            "stderr: 'fatal: Authentication failed for 'https://<key here>:x-oauth-basic@git.example.org/someuser/"
            "nautobot-tests.git/''"
        ),
        "infra.auth",
        "escalate",
        "git error Authentication failed",
    ),
    (
        "https://github.com/kubernetes/git-sync/issues/533",
        'E0612 11:52:50.150445 13 main.go:530] "msg"="unexpected error syncing repo, will retry" "error"="Run(git '
        "ls-remote -q https://dev.azure.com/my-org/my-env/_git/config refs/heads/my-project): exit status 128: { "
        'stdout: "", stderr: "fatal: could not read Username for \'https://dev.azure.com\': No such device or '
        'address" }"\n',
        "infra.auth",
        "escalate",
        "git error could not read credentials",
    ),
    (
        "https://github.com/GoogleCloudPlatform/policy-library/issues/189",
        "$ git push --mirror ${GIT_REPO_ADDR}\nWarning: Permanently added the RSA host key for IP address "
        "'140.82.114.4' to the list of known hosts.\ngit@github.com: Permission denied (publickey).\nfatal: Could not "
        "read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository "
        "exists.\n",
        "infra.auth",
        "escalate",
        "git error Permission denied (publickey)",
    ),
    # --- git: the repository, the ref, the checkout ------------------------------------------------
    (
        "https://github.com/lil-lab/ciff/issues/14",
        "Cloning into 'instruction-following-framework'...\nremote: Repository not found.\nfatal: repository "
        "'https://github.com/clic-lab/instruction-following-framework.git/' not found\n",
        "config.missing",
        "escalate",
        "git error repository not found",
    ),
    (
        "https://github.com/dbt-labs/dbt-core/issues/3057",
        "$ dbt deps\nRunning with dbt=0.19.0\nEncountered an error:\nError checking out spec='master' for repo "
        "git@github.com:fishtown-analytics/dbt-artifacts.git\nfatal: couldn't find remote ref master\n",
        "dependency.missing",
        "patch",
        "couldn't find remote ref",
    ),
    (
        "https://github.com/dbt-labs/dbt-core/pull/1110",
        "> dbt deps\nEncountered an error:\nError checking out spec='0.9.17' for repo "
        "https://github.com/fishtown-analytics/dbt-utils.git\nfatal: Couldn't find remote ref 0.9.17\n",
        "dependency.missing",
        "patch",
        "couldn't find remote ref",
    ),
    (
        "https://github.com/AngellusMortis/sxm-client/issues/11",
        "fatal: not a git repository (or any parent up to mount point /)\nStopping at filesystem boundary "
        "(GIT_DISCOVERY_ACROSS_FILESYSTEM not set).\n",
        "config.missing",
        "escalate",
        "git error not a git repository",
    ),
    (
        "https://github.com/gitpython-developers/GitPython/pull/1746",
        _tb("git.exc.InvalidGitRepositoryError: Detected dubious ownership in repository at: /tmp/BlueGen"),
        "config.missing",
        "escalate",
        "git error dubious ownership",
    ),
    (
        "https://github.com/onnx/onnx/pull/6949",
        "2025-05-02T07:44:31.5390429Z fatal: detected dubious ownership in repository at '/github/workspace'\n",
        "config.missing",
        "escalate",
        "git error dubious ownership",
    ),
    # --- git: not installed, the transport broke ----------------------------------------------------
    (
        "https://github.com/gitpython-developers/GitPython/issues/997",
        _tb("git.exc.GitCommandNotFound: Cmd('git') not found due to: OSError('[Errno 20] Not a directory')"),
        "dependency.missing",
        "escalate",
        "git error git not installed",
    ),
    (
        "https://github.com/ocaml/infrastructure/issues/145",
        "#13 73.79 error: RPC failed; curl 92 HTTP/2 stream 0 was not closed cleanly: CANCEL (err 8)\n#13 73.79 "
        "error: 3198 bytes of body are still expected\n#13 73.80 fetch-pack: unexpected disconnect while reading "
        "sideband packet\n#13 73.80 fatal: early EOF\n#13 73.80 fatal: index-pack failed\n",
        "infra.network",
        "retry",
        "git error connection broke",
    ),
]


@pytest.mark.parametrize("source,text,category,remediation,decided", POSTED, ids=[p[0] for p in POSTED])
def test_posted_messages(source, text, category, remediation, decided):
    result = triage_text(text)
    assert (result.category.value, result.remediation.value) == (category, remediation), source
    assert decided in result.decided_by, result.decided_by


@pytest.mark.parametrize(
    "type_name,message",
    [
        # PostgreSQL's FATAL and its own auth failure (libpq), not git's `fatal:`
        ("psycopg2.OperationalError", 'FATAL:  password authentication failed for user "airflow"'),
        # a local file under images/ that cannot be opened, not the registry's DENIED
        ("PermissionError", "[Errno 13] Permission denied: '/opt/airflow/images/logo.png'"),
        # ECR's own API (botocore) naming a missing repository: the AWS error code decides
        (
            "botocore.errorfactory.RepositoryNotFoundException",
            "An error occurred (RepositoryNotFoundException) when calling the DescribeImages operation: The "
            "repository with name 'etl' does not exist in the registry with id '123456789012'",
        ),
        # gRPC's UNAVAILABLE while pulling from a registry's mirror is gRPC's status, not a registry code
        ("grpc._channel._InactiveRpcError", 'status = StatusCode.UNAVAILABLE details = "failed to connect" registry'),
        # a container that exited 1: its own output decides (puckel/docker-airflow#581)
        ("airflow.exceptions.AirflowException", "docker container failed: {'Error': None, 'StatusCode': 1}"),
        # Kafka's broker text mentioning a git-like word is still Kafka's
        ("KafkaError", 'KafkaError{code=TOPIC_AUTHORIZATION_FAILED,val=29,str="Broker: Topic authorization failed"}'),
    ],
)
def test_look_alikes_are_not_claimed(type_name, message):
    assert docker.find(type_name, message) is None
    assert git.find(type_name, message) is None


def test_a_status_of_one_leaves_the_container_output_to_decide():
    """The container's own traceback, printed before the operator's line, decides."""
    log = (
        "[2024-01-01 00:00:00] {docker.py:413} INFO - KeyError: 'customer_id'\n"
        "airflow.providers.docker.exceptions.DockerContainerFailedException: Docker container failed: "
        "{'StatusCode': 1}\n"
    )
    assert "Docker error" not in triage_text(log).decided_by


def test_every_entry_is_a_taxonomy_category_with_a_source():
    verdicts = [*docker.REGISTRY.values(), *docker.EXIT.values(), *docker.CLASSES.values()]
    verdicts += [verdict for _, _, verdict in docker.MESSAGES] + [verdict for _, _, verdict in git.TABLE]
    assert len(verdicts) >= 50
    for verdict in verdicts:
        assert isinstance(verdict.category, Category) and verdict.category != Category.UNKNOWN
        assert verdict.source.startswith("https://")
