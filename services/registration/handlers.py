"""Command handlers: load the aggregate, let it decide, store its events and the read model together.

The routing is the table at the bottom: one handler per command type.
"""
from sqlalchemy import Connection, select

from shared.aggregate import CommandContext, rehydrate, record
from shared.envelope import Envelope
from shared.eventstore import EventStore

from services.registration import domain
from services.registration.projections import OWN_EVENTS, known_criteria_sets, units


def _record(store, conn, stream_id, aggregate, type_, data, ctx) -> Envelope:
    return record(store, conn, stream_id, aggregate, type_, data, ctx, project=OWN_EVENTS)


def stream_of(kind: str, province: str, id_: str) -> str:
    """The stream of a unit or cluster: its id is its province's own, so the stream names both."""
    return f"{kind}-{province}:{id_}"


def _load_in_province(store, conn, kind: str, province: str, aggregate):
    """A unit or cluster of ``province`` and the stream it lives in. One registered before ids were
    a province's own lives in the stream ``<kind>-<id>``: it is that province's only if its events
    say so (another province's same id is not there for this one), and it stays in that stream."""
    stream = stream_of(kind, province, aggregate.id)
    history = store.load(conn, stream)
    if not history:
        legacy = store.load(conn, f"{kind}-{aggregate.id}")
        if legacy and all(e.province == province for e in legacy):
            stream, history = f"{kind}-{aggregate.id}", legacy
    for event in history:
        aggregate.apply(event.type, event.data, event.province)
    return stream, aggregate


def _campaign(store, conn, campaign_id: str | None) -> domain.Campaign | None:
    if not campaign_id:
        return None
    return rehydrate(store, conn, f"campaign-{campaign_id}", domain.Campaign(campaign_id))


def launch_campaign(store: EventStore, conn: Connection, cmd: domain.LaunchCampaign,
                    ctx: CommandContext) -> Envelope:
    campaign = _campaign(store, conn, cmd.campaign_id)
    data = campaign.launch(cmd, _campaign(store, conn, cmd.parent_campaign_id),
                           known_criteria_sets(conn, cmd.province, cmd.criteria_set_ids))
    return _record(store, conn, f"campaign-{cmd.campaign_id}", campaign, domain.CAMPAIGN_LAUNCHED, data, ctx)


def register_participant(store: EventStore, conn: Connection, cmd: domain.RegisterParticipant,
                         ctx: CommandContext) -> Envelope:
    campaign = _campaign(store, conn, cmd.campaign_id)
    stream = f"registration-{cmd.registration_id}"
    # The id was made for this command, so the stream is new and there is nothing to load; were
    # it not, appending at version 0 would fail on the store's (stream, version) key.
    registration = domain.Registration(cmd.registration_id)
    return _record(store, conn, stream, registration, domain.PARTICIPANT_REGISTERED,
                   registration.register(campaign, cmd), ctx)


def withdraw_registration(store: EventStore, conn: Connection, cmd: domain.WithdrawRegistration,
                          ctx: CommandContext) -> Envelope:
    stream = f"registration-{cmd.registration_id}"
    registration = rehydrate(store, conn, stream, domain.Registration(cmd.registration_id))
    return _record(store, conn, stream, registration, domain.PARTICIPANT_WITHDRAWN,
                   registration.withdraw(cmd), ctx)


def register_unit(store: EventStore, conn: Connection, cmd: domain.RegisterUnit,
                  ctx: CommandContext) -> Envelope:
    stream, unit = _load_in_province(store, conn, "unit", cmd.province, domain.Unit(cmd.unit_id))
    parent = _load_in_province(store, conn, "unit", cmd.province, domain.Unit(cmd.parent_id))[1] \
        if cmd.parent_id else None
    return _record(store, conn, stream, unit, domain.UNIT_REGISTERED, unit.register(cmd, parent), ctx)


def add_member(store: EventStore, conn: Connection, cmd: domain.AddMember, ctx: CommandContext) -> Envelope:
    stream, unit = _load_in_province(store, conn, "unit", cmd.province, domain.Unit(cmd.unit_id))
    return _record(store, conn, stream, unit, domain.MEMBER_ADDED, unit.add_member(cmd), ctx)


def form_cluster(store: EventStore, conn: Connection, cmd: domain.FormCluster,
                 ctx: CommandContext) -> Envelope:
    stream, cluster = _load_in_province(store, conn, "cluster", cmd.province, domain.Cluster(cmd.cluster_id))
    known = set(conn.execute(select(units.c.id).where(units.c.province == cmd.province,
                                                      units.c.id.in_(cmd.member_unit_ids))).scalars())
    return _record(store, conn, stream, cluster, domain.CLUSTER_FORMED, cluster.form(cmd, known), ctx)


def sign_covenant(store: EventStore, conn: Connection, cmd: domain.SignCovenant,
                  ctx: CommandContext) -> Envelope:
    stream, cluster = _load_in_province(store, conn, "cluster", cmd.province, domain.Cluster(cmd.cluster_id))
    return _record(store, conn, stream, cluster, domain.COVENANT_SIGNED,
                   cluster.sign(cmd, _campaign(store, conn, cmd.campaign_id)), ctx)


COMMAND_HANDLERS = {
    domain.LaunchCampaign: launch_campaign,
    domain.RegisterParticipant: register_participant,
    domain.WithdrawRegistration: withdraw_registration,
    domain.RegisterUnit: register_unit,
    domain.AddMember: add_member,
    domain.FormCluster: form_cluster,
    domain.SignCovenant: sign_covenant,
}
