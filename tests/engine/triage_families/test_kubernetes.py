"""Kubernetes reasons (catalogs/kubernetes.py): the kubelet's container reasons, evictions and
admission refusals, the scheduler's filter messages, the Job controller's deadline, the API
server's quota refusals and the cncf-kubernetes provider's start timeout, as kubectl, the
KubernetesPodOperator and the KubernetesExecutor print them."""

from __future__ import annotations

import pytest

from patchit_provider.engine.taxonomy import Category
from patchit_provider.engine.triage.catalogs import kubernetes
from patchit_testing import triage_text

# (source, output as posted, the table's name, category, remediation)
POSTED = [
    (
        "https://github.com/apache/airflow/issues/21284",
        "    State:          Waiting\n      Reason:       CrashLoopBackOff\n    Last State:     Terminated\n"
        "      Reason:       OOMKilled\n      Exit Code:    137",
        "OOMKilled",
        Category.INFRA_RESOURCE,
        "escalate",
    ),
    (
        # the KubernetesExecutor's scheduler log
        "https://github.com/apache/airflow/issues/73164",
        "Pod phase: Failed, reason: None, message: None, container_type: main, container_name: base,\n"
        "container_state: terminated, container_reason: OOMKilled, container_message: None, exit_code: 137",
        "OOMKilled",
        Category.INFRA_RESOURCE,
        "escalate",
    ),
    (
        "https://github.com/apache/airflow/issues/53015",
        "testdag-testtask-474-60z3cjb3                0/1     Evicted            0            20h",
        "Evicted",
        Category.INFRA_RESOURCE,
        "escalate",
    ),
    (
        "https://github.com/Shopify/krane/pull/293",
        "status:\n  message: 'The node was low on resource: nodefs.'\n  phase: Failed\n  reason: Evicted",
        "Evicted",
        Category.INFRA_RESOURCE,
        "escalate",
    ),
    (
        "https://github.com/hail-is/hail/issues/6709",
        "Status:             Failed\nReason:             OutOfcpu\n"
        "Message:            Pod Node didn't have enough resource: cpu, requested: 600, used: 7371, capacity: 7910",
        "OutOfcpu",
        Category.INFRA_RESOURCE,
        "retry",
    ),
    (
        "https://github.com/kubernetes/kubernetes/pull/114623",
        '{\n  "lastProbeTime": null,\n  "lastTransitionTime": "2022-12-20T22:45:55Z",\n'
        '  "message": "Kube-scheduler: preempting to accommodate a higher priority pod: default/pause2",\n'
        '  "reason": "PreemptionByKubeScheduler",\n  "status": "True",\n  "type": "DisruptionTarget"\n}',
        "PreemptionByKubeScheduler",
        Category.INFRA_RESOURCE,
        "retry",
    ),
    (
        "https://github.com/ansible/awx-operator/issues/347",
        "  Warning  FailedScheduling  22s (x4 over 2m31s)  default-scheduler  0/1 nodes are available: 1 Insufficient cpu.",
        "Insufficient",
        Category.INFRA_RESOURCE,
        "escalate",
    ),
    (
        "https://github.com/sematic-ai/sematic/issues/189",
        'status:\n  conditions:\n  - lastProbeTime: null\n    lastTransitionTime: "2022-10-13T22:53:47Z"\n'
        "    message: '0/3 nodes are available: 3 Insufficient cpu.'\n    reason: Unschedulable\n"
        '    status: "False"\n    type: PodScheduled\n  phase: Pending',
        "Insufficient",
        Category.INFRA_RESOURCE,
        "escalate",
    ),
    (
        "https://github.com/hwameistor/hwameistor/issues/1448",
        "  Warning  FailedScheduling  40s   hwameistor-scheduler  0/3 nodes are available: 1 node(s) didn't match "
        "Pod's node affinity/selector, 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 3 "
        "node(s) didn't match pod affinity rules. preemption: 0/3 nodes are available: 3 Preemption is not helpful "
        "for scheduling.",
        "Taint",
        Category.CONFIG_MISSING,
        "escalate",
    ),
    (
        # a taint the node controller put on an unreachable node: the cluster, not the pod's rules
        "https://github.com/hystax/optscale/issues/568",
        "2m57s       Warning   FailedScheduling          pod/keeper-577cccc7db-s4r4v"
        "                                                0/1 nodes are available: 1 node(s) had untolerated taint "
        "{node.kubernetes.io/unreachable: }. preemption: 0/1 nodes are available: 1 Preemption is not helpful for "
        "scheduling.",
        "NodesUnschedulable",
        Category.INFRA_RESOURCE,
        "retry",
    ),
    (
        "https://github.com/radondb/radondb-mysql-kubernetes/issues/524",
        "  Warning  FailedScheduling        2m58s                default-scheduler        0/3 nodes are available: 3 "
        "pod has unbound immediate PersistentVolumeClaims. preemption: 0/3 nodes are available: 3 Preemption is not "
        "helpful for scheduling.",
        "UnboundClaim",
        Category.CONFIG_MISSING,
        "escalate",
    ),
    (
        "https://github.com/ibm-cloud-labs/iks-handson/issues/7",
        "sample-mychart-6bfc89db65-j9g9z   0/1     Init:CreateContainerConfigError   0          108s",
        "CreateContainerConfigError",
        Category.CONFIG_MISSING,
        "escalate",
    ),
    (
        "https://github.com/kubernetes/kubernetes/issues/80466",
        "  Warning  Failed                  29m                kubelet, ip-10-50-155-108.ec2.internal  Error: "
        'secrets "busybox-secret-47" not found',
        "CreateContainerConfigError",
        Category.CONFIG_MISSING,
        "escalate",
    ),
    (
        "https://github.com/cloudfoundry/eirini-release/issues/111",
        "  Warning  FailedMount  2m57s (x8 over 4m1s)  kubelet, <redacted-address>  MountVolume.SetUp failed for "
        'volume "cf-secrets" : secrets "secrets-2.16.4-1" not found',
        "FailedMount",
        Category.CONFIG_MISSING,
        "escalate",
    ),
    (
        "https://github.com/apache/airflow/issues/61775",
        "airflow.providers.cncf.kubernetes.kubernetes_helper_functions.PodLaunchFailedException: Pod docker image "
        "cannot be pulled, unable to start: ErrImagePull\npull QPS exceeded",
        "ErrImagePull",
        Category.INFRA_NETWORK,
        "retry",
    ),
    (
        "https://github.com/helm/helm/issues/12189",
        "sape-qa-5-author-baseauth-8374934938-66l9x   0/1     ImagePullBackOff   0          43m    <ip>   "
        "sape-kube-worker8",
        "ImagePullBackOff",
        Category.CONFIG_MISSING,
        "escalate",
    ),
    (
        "https://github.com/kubernetes/minikube/issues/9161",
        "E0902 17:08:30.672936    5467 kuberuntime_manager.go:801] container start failed: ErrImagePull: rpc error: "
        "code = Unknown desc = Error response from daemon: Get http://nexus3:8083/v2/com.panov/ci-cd/manifests/"
        "0.0.1-SNAPSHOT: no basic auth credentials",
        "ErrImagePull",
        Category.INFRA_AUTH,
        "escalate",
    ),
    (
        "https://github.com/vdesabou/kafka-docker-playground/issues/8515",
        "    State:          Waiting\n      Reason:       RunContainerError\n    Last State:     Terminated\n"
        "      Reason:       StartError",
        "RunContainerError",
        Category.CONFIG_MISSING,
        "escalate",
    ),
    (
        "https://github.com/cdapio/cdap-operator/pull/36",
        '  conditions:\n  - lastProbeTime: "2020-04-01T09:48:21Z"\n    lastTransitionTime: "2020-04-01T09:48:21Z"\n'
        "    message: Job was active longer than specified deadline\n    reason: DeadlineExceeded\n"
        '    status: "True"\n    type: Failed\n  failed: 5',
        "DeadlineExceeded",
        Category.INFRA_TIMEOUT,
        "retry",
    ),
    (
        "https://github.com/apache/airflow/issues/36348",
        "kubernetes.client.exceptions.ApiException: (403)\nReason: Forbidden\nHTTP response body: "
        '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \\"xxx\\" is forbidden: '
        "exceeded quota: airflow-dags-resource-quota, requested: limits.cpu=550m, used: limits.cpu=3300m, limited: "
        'limits.cpu=3500m","reason":"Forbidden","details":{"name":"xxx","kind":"pods"},"code":403}',
        "ExceededQuota",
        Category.INFRA_RESOURCE,
        "retry",
    ),
    (
        "https://github.com/apache/airflow/issues/10722",
        'HTTP response body: {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods '
        '\\"xyz..\\" is forbidden: failed quota: default: must specify requests.memory","reason":"Forbidden",'
        '"details":{"name":"xyz..","kind":"pods"},"code":403}',
        "QuotaNeedsLimits",
        Category.CONFIG_MISSING,
        "escalate",
    ),
    (
        # the provider's start timeout (utils/pod_manager.py, await_pod_start)
        "https://github.com/apache/airflow/blob/main/providers/cncf/kubernetes/src/airflow/providers/cncf/kubernetes/utils/pod_manager.py",
        "airflow.providers.cncf.kubernetes.utils.pod_manager.PodLaunchTimeoutException: Pod took too long to start. "
        "More than 120s. Check the pod events in kubernetes.",
        "PodLaunchTimeout",
        Category.INFRA_TIMEOUT,
        "retry",
    ),
    (
        "https://github.com/apache/airflow/pull/17953",
        "airflow.exceptions.AirflowException: Pod took longer than 120 seconds to start. Increasing 'startup_timeout' "
        "might resolve this error, but check the pod events in kubernetes for structural errors like a missing "
        "imagePullSecret.",
        "PodLaunchTimeout",
        Category.INFRA_TIMEOUT,
        "retry",
    ),
]


@pytest.mark.parametrize(("source", "text", "name", "category", "remediation"), POSTED, ids=[p[0] for p in POSTED])
def test_kubernetes_reasons_decide(source, text, name, category, remediation):
    assert kubernetes.find("", text)[0] == name, source
    found = triage_text(text)
    assert (found.category, found.remediation.value) == (category, remediation), (source, found.rationale)


@pytest.mark.parametrize(
    "text",
    [
        # gRPC's status code of the same name, in a Go client's error (not a pod's reason)
        "rpc error: code = DeadlineExceeded desc = context deadline exceeded",
        # Docker's inspect field: a flag, false here
        '"State": {"Status": "exited", "Running": false, "OOMKilled": false, "Dead": false, "ExitCode": 1}',
        # YARN's container kill
        "Container killed by YARN for exceeding memory limits. 5.5 GB of 5.5 GB physical memory used.",
        # a pod's own process failing: its log names the cause, not the reason
        "    State:          Terminated\n      Reason:       Error\n      Exit Code:    1",
    ],
)
def test_a_look_alike_outside_kubernetes_reasons_decides_nothing(text):
    assert kubernetes.find("", text) is None
    assert "Kubernetes" not in triage_text(text).decided_by


def test_every_name_has_a_category_and_a_kubernetes_or_airflow_source():
    assert all(isinstance(v.category, Category) for v in kubernetes.CODES.values())
    assert all(("kubernetes" in v.source) for v in kubernetes.CODES.values())
    assert len(kubernetes.CODES) >= 30
