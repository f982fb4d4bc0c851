"""Kubernetes pod, container and Job reasons -> category, as KubernetesPodOperator, the
KubernetesExecutor and kubectl print them.

Sources: the kubelet's container reasons (pkg/kubelet/images/types.go: ErrImagePull, ImagePullBackOff,
InvalidImageName, ErrImageNeverPull, RegistryUnavailable; pkg/kubelet/container/sync_result.go:
RunContainerError, CreatePodSandboxError; pkg/kubelet/kuberuntime/kuberuntime_container.go:
CreateContainerConfigError, CreateContainerError), its eviction and admission reasons
(pkg/kubelet/eviction/helpers.go: Evicted, "The node was low on resource: X."; the admission's
OutOf<resource>), the pod conditions (pkg/apis/core/types.go: Unschedulable, the DisruptionTarget
reasons), the scheduler's filter messages ("0/3 nodes are available: 3 Insufficient cpu."), the Job
controller's DeadlineExceeded, the API server's Status reasons and ResourceQuota/LimitRange refusals,
and the cncf-kubernetes provider's own texts (operators/pod.py "Pod X returned a failure", utils/
pod_manager.py "Pod took too long to start"). Reasons are read where Kubernetes puts them: a `reason`
field (dict, JSON, YAML, `kubectl describe`, the executor's `container_reason:`), the STATUS column of
`kubectl get pods`, an event's reason column (or the provider's "Pod Event: X - ..."); the kubelet's
distinctive names (ErrImagePull, OOMKilled, ...) anywhere in a Kubernetes text.

Left out, because they say only that the container's own process failed (its log names the cause):
Error, Completed, CrashLoopBackOff, BackOff, and the Job's BackoffLimitExceeded.
"""

from __future__ import annotations

import re

from patchit_provider.engine.taxonomy import Category as C
from patchit_provider.engine.taxonomy import Remediation
from patchit_provider.engine.triage.catalogs.base import Verdict, each

_K8S = "https://github.com/kubernetes/kubernetes/blob/master/"
SOURCE = (
    f"{_K8S}pkg/kubelet/images/types.go; {_K8S}pkg/kubelet/container/sync_result.go; "
    f"{_K8S}pkg/kubelet/kuberuntime/kuberuntime_container.go; {_K8S}pkg/kubelet/eviction/helpers.go; "
    f"{_K8S}pkg/apis/core/types.go; "
    "https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#container-states; "
    "https://kubernetes.io/docs/concepts/workloads/pods/disruptions/#pod-disruption-conditions"
)
SCHEDULER = (
    f"{_K8S}pkg/scheduler/framework/plugins/ (noderesources/fit.go, tainttoleration, nodeaffinity, volumebinding); "
    "https://kubernetes.io/docs/concepts/scheduling-eviction/"
)
API = (
    f"{_K8S}staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/types.go (StatusReason); "
    "https://kubernetes.io/docs/concepts/policy/resource-quotas/; https://kubernetes.io/docs/concepts/policy/limit-range/"
)
AIRFLOW = (
    "https://github.com/apache/airflow/blob/main/providers/cncf/kubernetes/src/airflow/providers/cncf/kubernetes/"
    "utils/pod_manager.py (PodLaunchTimeoutException)"
)


def _v(
    category: C, confidence: float, why: str, remediation: Remediation | None = None, source: str = SOURCE
) -> Verdict:
    return Verdict(category, confidence, source, f"Kubernetes {why}", remediation)


# the kubelet cannot get the image: the name, tag or pull secret the pod names is wrong (a pull
# throttled or a registry unreachable is refined below from the message the kubelet carries)
_IMAGE = _v(C.CONFIG_MISSING, 0.85, "cannot pull the container image the pod names (image, tag or pull secret)")
# the runtime cannot create or start the container: the pod's command, mounts or security settings
_START = _v(C.CONFIG_MISSING, 0.65, "cannot create or start the container (its command, mounts or settings)")
# the pod was removed from outside (preemption, a node drained, tainted or gone): a new pod runs
_DISRUPTED = _v(
    C.INFRA_RESOURCE, 0.85, "disrupted the pod from outside (preempted, drained or its node gone)", Remediation.RETRY
)
# the kubelet refused the pod at admission (the node filled up after scheduling): a new pod fits elsewhere
_ADMISSION = _v(C.INFRA_RESOURCE, 0.9, "the node had too little of a resource when the pod arrived", Remediation.RETRY)
# the scheduler finds no node with room (cpu, memory, pods, GPUs, free ports)
_CAPACITY = _v(C.INFRA_RESOURCE, 0.8, "no node has room for the pod's requests", source=SCHEDULER)
# the pod's own placement rules (node selector, affinity, tolerations) match no node
_PLACEMENT = _v(
    C.CONFIG_MISSING, 0.75, "no node matches the pod's node selector, affinity or tolerations", source=SCHEDULER
)
# the pod's volume claim is missing or cannot bind (no storage class or volume for it)
_CLAIM = _v(C.CONFIG_MISSING, 0.75, "the pod's PersistentVolumeClaim is missing or cannot be bound", source=SCHEDULER)
# the API server is unavailable or overloaded for a moment
_API_DOWN = _v(C.INFRA_NETWORK, 0.8, "API server unavailable or throttling (transient)", Remediation.RETRY, API)

CODES: dict[str, Verdict] = {
    **each("ErrImagePull ImagePullBackOff InvalidImageName ErrImageNeverPull", _IMAGE),
    "RegistryUnavailable": _v(C.INFRA_NETWORK, 0.8, "the image registry did not answer", Remediation.RETRY),
    # the Secret, ConfigMap or key an env var or volume names does not exist
    "CreateContainerConfigError": _v(
        C.CONFIG_MISSING, 0.9, "the Secret, ConfigMap or key the container uses is missing"
    ),
    **each("CreateContainerError RunContainerError ContainerCannotRun StartError", _START),
    # the sandbox is the pod's network namespace: a CNI (IP allocation, network plugin) failure
    **each(
        "CreatePodSandboxError FailedCreatePodSandBox NetworkNotReady",
        _v(C.INFRA_NETWORK, 0.7, "the node could not set up the pod's network", Remediation.RETRY),
    ),
    "FailedMount": _v(C.CONFIG_MISSING, 0.7, "a volume of the pod (Secret, ConfigMap, claim) cannot be mounted"),
    "FailedAttachVolume": _v(
        C.INFRA_RESOURCE, 0.7, "the pod's volume cannot be attached to the node", Remediation.RETRY
    ),
    "OOMKilled": _v(C.INFRA_RESOURCE, 0.95, "killed the container for exceeding its memory limit"),
    "Evicted": _v(C.INFRA_RESOURCE, 0.9, "evicted the pod: its node ran low on memory or disk"),
    **each("OutOfcpu OutOfmemory OutOfpods OutOfephemeral-storage", _ADMISSION),
    **each(
        "PreemptionByScheduler PreemptionByKubeScheduler Preempting TerminationByKubelet DeletionByTaintManager "
        "EvictionByEvictionAPI DeletionByPodGC NodeLost NodeShutdown",
        _DISRUPTED,
    ),
    # activeDeadlineSeconds of the pod or of the Job ("Job was active longer than specified deadline")
    "DeadlineExceeded": _v(C.INFRA_TIMEOUT, 0.85, "the pod or Job ran past its activeDeadlineSeconds"),
    "Unschedulable": _v(C.INFRA_RESOURCE, 0.7, "no node can take the pod", source=SCHEDULER),
    "Insufficient": _CAPACITY,
    "Taint": _PLACEMENT,
    "NodeSelector": _PLACEMENT,
    "UnboundClaim": _CLAIM,
    "NodesUnschedulable": _v(C.INFRA_RESOURCE, 0.75, "every fitting node is cordoned", Remediation.RETRY, SCHEDULER),
    # the provider gave up waiting for the pod to leave Pending (startup_timeout_seconds)
    "PodLaunchTimeout": _v(
        C.INFRA_TIMEOUT, 0.7, "pod did not start within the operator's startup timeout", source=AIRFLOW
    ),
    # the API server's Status reasons (the body of an ApiException)
    "Unauthorized": _v(C.INFRA_AUTH, 0.85, "API server refused the credentials", source=API),
    "Forbidden": _v(C.INFRA_AUTH, 0.85, "API server refused the service account (RBAC)", source=API),
    "Invalid": _v(C.CODE_ERROR, 0.8, "API server rejected the pod spec the code built", Remediation.PATCH, API),
    "Expired": _v(C.INFRA_NETWORK, 0.7, "watch resource version expired (the watch restarts)", Remediation.RETRY, API),
    **each("TooManyRequests ServiceUnavailable ServerTimeout Timeout InternalError", _API_DOWN),
    "ExceededQuota": _v(
        C.INFRA_RESOURCE, 0.9, "namespace ResourceQuota is used up by running pods", Remediation.RETRY, API
    ),
    "QuotaNeedsLimits": _v(
        C.CONFIG_MISSING, 0.9, "the namespace's quota or LimitRange refuses the pod's resources", source=API
    ),
}

# names no other engine prints: read anywhere in a Kubernetes text (not as a key: `"OOMKilled": false`)
_DISTINCT = (
    "ErrImagePull|ImagePullBackOff|InvalidImageName|ErrImageNeverPull|CreateContainerConfigError|CreateContainerError|"
    "RunContainerError|ContainerCannotRun|CreatePodSandboxError|FailedCreatePodSandBox|FailedMount|FailedAttachVolume|"
    "OOMKilled|OutOf(?:cpu|memory|pods|ephemeral-storage)|PreemptionBy(?:Kube)?Scheduler|TerminationByKubelet|"
    "DeletionByTaintManager|EvictionByEvictionAPI|DeletionByPodGC"
)
_BARE = re.compile(rf"\b({_DISTINCT})\b(?!['\"]\s*:|\s*:\s*(?:true|false)\b)")
_SLOT = re.compile(
    r"(?:\b|_)(?i:reason)['\"]?\s*[:=]\s*['\"]?(?P<a>[A-Z][\w-]+)"  # 'reason': 'X', "reason":"X", reason: X, Reason: X
    r"|\b\d+/\d+\s+(?:Init:)?(?P<b>[A-Z][\w-]+)\s+\d+"  # kubectl get pods: READY STATUS RESTARTS
    r"|\b(?:Warning|Normal)\s+(?P<c>[A-Z]\w+)\s+\S+"  # kubectl describe / get events: TYPE REASON ...
    r"|\bPod Event: (?P<d>[A-Z]\w+)"  # the provider's log_events_on_failure
    r"|\bPod failed because of (?P<e>[A-Z]\w+)"  # the KubernetesExecutor's termination reason
)
_KUBERNETES = re.compile(
    rf"kubernetes|kubectl|kubelet|\bk8s\b|\bpods?\b|V1Pod|container_?statuses|containerStatuses|default-scheduler|"
    rf"nodes are available|PodLaunch|remote_pod|\b\d+/\d+\s+(?:Init:)?[A-Z][\w-]+\s+\d+\s+\d+[smhd]\b|State:\s+(?:Waiting|Terminated)|last_?(?:probe|transition)_?time|"
    rf"Job was active longer than specified deadline|The node was low on resource|The node had condition|{_DISTINCT}",
    re.I,
)

# messages that carry no reason name, each read as the name it stands for
_TEXTS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.I), name)
    for pattern, name in (
        # ResourceQuota and LimitRange admission (403 Forbidden bodies)
        (r"exceeded quota:", "ExceededQuota"),
        (
            r"failed quota: \S+ must specify|(?:maximum|minimum) (?:cpu|memory|storage) usage per (?:Container|Pod) is",
            "QuotaNeedsLimits",
        ),
        # the kubelet's eviction and admission messages
        (
            r"The node was low on resource: |The node had condition: \[\w+Pressure\]|Pod ephemeral local storage usage exceeds",
            "Evicted",
        ),
        (r"Pod was terminated in response to imminent node shutdown", "NodeShutdown"),
        # the kubelet's CreateContainerConfigError messages (kubelet_pods.go)
        (
            r"Error: (?:secrets?|configmaps?) \"[^\"]+\" not found|couldn't find key \S+ in (?:Secret|ConfigMap)",
            "CreateContainerConfigError",
        ),
        (r"Failed to pull image \"", "ErrImagePull"),  # the kubelet's ErrImagePull message (images/image_manager.go)
        (r"Job was active longer than specified deadline", "DeadlineExceeded"),
        (r"Pod took (?:too long to (?:start|be scheduled)|longer than \d+ seconds to start)", "PodLaunchTimeout"),
    )
)
# the scheduler's filter messages ("0/5 nodes are available: 2 Insufficient cpu, 3 node(s) had untolerated
# taint {...}."): room first, since a full cluster explains a pod that other nodes' rules also refuse
_SCHEDULING = re.compile(
    r"nodes are available|fit failure on node|No nodes are available|FailedScheduling|Unschedulable"
)
_PREDICATES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), name)
    for pattern, name in (
        (r"\bInsufficient [\w./-]+|\bToo many pods|didn't have free ports", "Insufficient"),
        (
            r"unbound (?:immediate )?PersistentVolumeClaims|persistentvolumeclaim \"[^\"]+\" not found|"
            r"volume node affinity conflict|didn't find available persistent volumes",
            "UnboundClaim",
        ),
        # a taint the node lifecycle controller or the kubelet put on a sick or cordoned node
        (
            r"untolerated taint \{node\.kubernetes\.io/(?:unreachable|not-ready|unschedulable|network-unavailable|"
            r"(?:memory|disk|pid)-pressure)\b",
            "NodesUnschedulable",
        ),
        (
            r"had untolerated taint \{(?!node\.kubernetes\.io/)|had taints? that the pod didn't tolerate|"
            r"PodToleratesNodeTaints",
            "Taint",
        ),
        (r"didn't match (?:Pod's )?node (?:affinity|selector)|MatchNodeSelector", "NodeSelector"),
        (r"node\(s\) were unschedulable", "NodesUnschedulable"),
    )
)
# why a pull failed, as the container runtime words it inside the kubelet's message
_PULL_CAUSES: tuple[tuple[re.Pattern[str], Verdict], ...] = (
    (
        re.compile(r"pull QPS exceeded|toomanyrequests|429 Too Many Requests|rate limit", re.I),
        _v(
            C.INFRA_NETWORK,
            0.9,
            "image pull was throttled (kubelet's pull QPS or the registry's limit)",
            Remediation.RETRY,
        ),
    ),
    (
        re.compile(
            r"unauthorized|authentication required|no basic auth credentials|401 Unauthorized|403 Forbidden|unauthenticated",
            re.I,
        ),
        _v(C.INFRA_AUTH, 0.85, "registry refused the image pull's credentials (imagePullSecrets)"),
    ),
    (
        re.compile(
            r"i/o timeout|connection refused|connection reset|TLS handshake timeout|context deadline exceeded|"
            r"net/http: request canceled|503 Service Unavailable",
            re.I,
        ),
        _v(C.INFRA_NETWORK, 0.85, "registry unreachable during the image pull (transient)", Remediation.RETRY),
    ),
)
_PULLS = {"ErrImagePull", "ImagePullBackOff"}


def _named(text: str) -> list[str]:
    """The table's names in the text, in order: reason fields and columns, distinctive names, messages."""
    found = [n for m in _SLOT.finditer(text) if (n := next(g for g in m.groups() if g)) in CODES]
    found += [m.group(1) for m in _BARE.finditer(text)]
    found += [name for pattern, name in _TEXTS if pattern.search(text)]
    if _SCHEDULING.search(text):
        found += [name for pattern, name in _PREDICATES if pattern.search(text)]
    return found


def find(type_name: str, message: str) -> tuple[str, Verdict] | None:
    """The most telling Kubernetes reason of this table in an error that is Kubernetes' (its pod,
    kubelet, scheduler or API server), refined for an image pull by the cause the kubelet quotes."""
    text = f"{type_name}: {message[:100_000]}"
    if not _KUBERNETES.search(text):
        return None
    names = _named(text)
    if not names:
        return None
    name = max(names, key=lambda n: (CODES[n].confidence, -names.index(n)))
    if name in _PULLS:
        cause = next((v for pattern, v in _PULL_CAUSES if pattern.search(text)), None)
        if cause is not None:
            return name, cause
    return name, CODES[name]
