"""Command handlers: load the aggregate, let it decide, store its events and the read model together."""
from sqlalchemy import Connection

from shared.aggregate import CommandContext, rehydrate, record
from shared.envelope import Envelope
from shared.eventstore import EventStore

from services.registration import domain
from services.registration.projections import OWN_EVENTS


def _record_and_project(store, conn, stream_id, aggregate, type_, data, ctx) -> Envelope:
    event = record(store, conn, stream_id, aggregate, type_, data, ctx)
    OWN_EVENTS[type_](conn, event)
    return event


def launch_campaign(store: EventStore, conn: Connection, cmd: domain.LaunchCampaign,
                    ctx: CommandContext) -> Envelope:
    stream = f"campaign-{cmd.campaign_id}"
    campaign = rehydrate(store, conn, stream, domain.Campaign(cmd.campaign_id))
    return _record_and_project(store, conn, stream, campaign, domain.CAMPAIGN_LAUNCHED,
                               campaign.launch(cmd), ctx)


def register_participant(store: EventStore, conn: Connection, cmd: domain.RegisterParticipant,
                         ctx: CommandContext) -> Envelope:
    campaign = rehydrate(store, conn, f"campaign-{cmd.campaign_id}", domain.Campaign(cmd.campaign_id))
    stream = f"registration-{cmd.registration_id}"
    registration = rehydrate(store, conn, stream, domain.Registration(cmd.registration_id))
    return _record_and_project(store, conn, stream, registration, domain.PARTICIPANT_REGISTERED,
                               registration.register(campaign, cmd), ctx)


# The routing, in one place: command type -> handler.
COMMAND_HANDLERS = {
    domain.LaunchCampaign: launch_campaign,
    domain.RegisterParticipant: register_participant,
}


def handle(store: EventStore, conn: Connection, command, ctx: CommandContext) -> Envelope:
    return COMMAND_HANDLERS[type(command)](store, conn, command, ctx)
