"""The Prefect automations ``journeys deploy`` creates, so a problem reaches a person: a run
that failed or crashed, a run stuck in Running (its process died: flow-run heartbeats stop),
a run whose sends failed or wait for a retry, and due work older than
``schedule.backlog_alert_seconds`` (the event ``journeykit.backlog.late`` that runs emit,
orchestration/backlog.py). Each names the run and links to it.

They notify through the Prefect notification block named ``journeykit-alerts`` (any kind:
Slack, email, a webhook; create it in the UI or with ``prefect block create``); without one
they are still created (the Automations page and the event feed show each firing) and
``journeys deploy`` says how to add it. Creating them again updates them in place (by name)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from prefect.client.orchestration import SyncPrefectClient
from prefect.events.actions import ChangeFlowRunState, DoNothing, SendNotification
from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture
from prefect.states import StateType

from journeykit.foundation.settings import Settings
from journeykit.orchestration.backlog import EVENT as BACKLOG_EVENT
from journeykit.orchestration.backlog import RESOURCE as BACKLOG_RESOURCE
from journeykit.orchestration.run_outcome import FAILED_SENDS, SENDS_TO_RETRY

ALERT_BLOCK = "journeykit-alerts"
PREFIX = "journeykit · "
# our deployments all carry this tag (prefect.yaml); flow-run events name their tags
OUR_RUNS = {"prefect.resource.id": "prefect.tag.journeykit", "prefect.resource.role": "tag"}
FLOW_RUNS = {"prefect.resource.id": "prefect.flow-run.*"}
LINK = "{{ flow_run|ui_url }}"


@dataclass(frozen=True)
class AlertTiming:
    """How long a silent run may stay Running (3 heartbeats: start workers with
    ``PREFECT_FLOWS_HEARTBEAT_FREQUENCY=30``) and how late due work may get before an alert
    (the setting ``schedule.backlog_alert_seconds``; also the alert's repeat period)."""

    heartbeat_seconds: int = 30
    backlog_minutes: int = 10

    @classmethod
    def from_settings(cls, settings: Settings) -> AlertTiming:
        return cls(backlog_minutes=max(1, settings.schedule.backlog_alert_seconds // 60))


def automations(timing: AlertTiming, notify: UUID | None) -> list[AutomationCore]:
    """What ``journeys deploy`` creates, each with a clear message and a link to the run."""

    def tell(subject: str, body: str) -> list[Any]:
        if notify is None:
            return [DoNothing()]
        return [SendNotification(block_document_id=notify, subject=subject, body=body)]

    run = "{{ flow_run.name }} ({{ flow.name }})"
    zombie_after = timedelta(seconds=3 * timing.heartbeat_seconds)
    return [
        AutomationCore(
            name=PREFIX + "run failed or crashed",
            description="A Journeykit flow run ended Failed or Crashed: read its logs.",
            trigger=EventTrigger(
                match=FLOW_RUNS,
                match_related=OUR_RUNS,
                expect={"prefect.flow-run.Failed", "prefect.flow-run.Crashed"},
                posture=Posture.Reactive,
                threshold=1,
                within=timedelta(0),
            ),
            actions=tell(
                f"Journeykit run {{{{ flow_run.state.name }}}}: {run}",
                f"{run} ended {{{{ flow_run.state.name }}}}: {{{{ flow_run.state.message }}}}\n"
                f"{LINK}",
            ),
        ),
        AutomationCore(
            name=PREFIX + "run stuck in Running",
            description=(
                f"No heartbeat from a Journeykit flow run for {zombie_after.seconds} s: its "
                "process died (killed, out of memory, host lost). Marked Crashed; what it had "
                "claimed is claimed again when its lease ends."
            ),
            trigger=EventTrigger(
                match=FLOW_RUNS,
                match_related=OUR_RUNS,
                after={"prefect.flow-run.heartbeat"},
                expect={
                    "prefect.flow-run.heartbeat",
                    "prefect.flow-run.Completed",
                    "prefect.flow-run.Failed",
                    "prefect.flow-run.Cancelled",
                    "prefect.flow-run.Crashed",
                },
                for_each={"prefect.resource.id"},
                posture=Posture.Proactive,
                threshold=1,
                within=zombie_after,
            ),
            actions=[
                ChangeFlowRunState(
                    state=StateType.CRASHED,
                    message=f"no heartbeat for {zombie_after.seconds} s: the process died",
                ),
                *tell(
                    f"Journeykit run stuck: {run}",
                    f"{run} sent no heartbeat for {zombie_after.seconds} s and was marked "
                    f"Crashed.\n{LINK}",
                ),
            ],
        ),
        AutomationCore(
            name=PREFIX + "sends failed or wait for a retry",
            description=(
                f"A Journeykit run ended '{FAILED_SENDS}' or '{SENDS_TO_RETRY}': a provider "
                "refused messages or did not answer; `journeys status` lists the errors."
            ),
            trigger=EventTrigger(
                match=FLOW_RUNS,
                match_related=OUR_RUNS,
                expect={f"prefect.flow-run.{FAILED_SENDS}", f"prefect.flow-run.{SENDS_TO_RETRY}"},
                posture=Posture.Reactive,
                threshold=1,
                within=timedelta(0),
            ),
            actions=tell(
                f"Journeykit sends: {{{{ flow_run.state.name }}}} in {run}",
                f"{run}: {{{{ flow_run.state.message }}}}\n{LINK}",
            ),
        ),
        AutomationCore(
            name=PREFIX + "due work late",
            description=(
                f"Due Journeykit work (enrollments waking, messages held) is older than "
                f"{timing.backlog_minutes} minutes: a wake-up run was missed (no worker, a "
                "paused deployment, a worker killed mid-run). The safety sweep takes it; "
                "`journeys status` shows the backlog. At most one alert per journey per "
                f"{timing.backlog_minutes} minutes."
            ),
            trigger=EventTrigger(
                # every run (wake-ups, events, the safety sweep) measures the oldest overdue
                # work and emits this event per journey when it is older than the setting
                # schedule.backlog_alert_seconds (orchestration/backlog.py)
                match={"prefect.resource.id": f"{BACKLOG_RESOURCE}.*"},
                expect={BACKLOG_EVENT},
                for_each={"prefect.resource.id"},
                posture=Posture.Reactive,
                threshold=1,
                within=timedelta(minutes=timing.backlog_minutes),
            ),
            actions=tell(
                "Journeykit: {{ event.payload.journey }} work {{ event.payload.age_minutes }} "
                "minutes late",
                "Due work of {{ event.payload.journey }} waits since "
                "{{ event.payload.oldest_due }} ({{ event.payload.age_minutes }} minutes): "
                "{{ event.payload.enrollments }} enrollments, {{ event.payload.messages }} "
                "messages. Seen by " + run + f".\n{LINK}\n"
                "Check the workers (prefect worker start --pool journeykit), the journey's "
                "deployment (not paused) and `journeys status`.",
            ),
        ),
    ]


def alert_block(client: SyncPrefectClient, name: str = ALERT_BLOCK) -> UUID | None:
    """The id of the notification block named ``name``, if there is one."""
    found = [b for b in client.read_block_documents(include_secrets=False) if b.name == name]
    return found[0].id if found else None


def ensure_automations(client: SyncPrefectClient, timing: AlertTiming) -> tuple[list[str], bool]:
    """Create or update (by name) every automation; returns their names and whether they
    notify (a ``journeykit-alerts`` block exists)."""
    notify = alert_block(client)
    names = []
    for automation in automations(timing, notify):
        existing = client.read_automations_by_name(automation.name)
        if existing:
            client.update_automation(existing[0].id, automation)
        else:
            client.create_automation(automation)
        names.append(automation.name)
    return names, notify is not None
