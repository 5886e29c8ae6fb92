"""Assemble a live session from options: protocol, source, player, store, processor, clock.

In two steps, so that a dashboard can paint before the heavy part loads: ``prepare_session``
does what can fail on the user's input (the protocol, the store, a replayed file) and is quick;
``PreparedSession.build`` makes the source, player and processor (the simulator and the HRV maths
import numpy and scipy: most of a second) and may run in a worker thread.
``build_session`` is both at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from biofeedback.errors import InputError
from biofeedback.live.clock import SessionClock
from biofeedback.live.sources import SourceOptions, open_source

if TYPE_CHECKING:
    from biofeedback.hrv.settings import ArtifactMethod, LiveCorrection
    from biofeedback.live.pipeline import LivePipeline
    from biofeedback.playback.player import Player
    from biofeedback.sessions.protocol import Protocol, ProtocolPlan
    from biofeedback.sessions.store import SessionStore
    from devices.simulator import Segment
    from devices.source import HeartRateSource


@dataclass(frozen=True, slots=True)
class SessionOptions:
    source: SourceOptions
    protocol: str | None = "default"
    player: str = "manual"
    """``mpv``, ``manual`` or ``none``."""
    db: Path | None = None
    record: bool = True
    silent_player: bool = False
    fast: bool = False
    """Run a simulated source as fast as possible (tests, headless generation)."""
    artifact_method: ArtifactMethod = "published"
    """Artifact detection of the live processor (stored with the session's settings)."""
    correction: LiveCorrection = "automatic"
    """Any level (``hrv.settings.LIVE_CORRECTIONS``); ``automatic`` with
    ``artifact_method="robust"`` is robust. Stored as ``settings.correction``."""


def plan_segments(plan: ProtocolPlan) -> tuple[Segment, ...]:
    """The simulator's physiology timeline for a plan (so simulated sessions carry truth)."""
    from biofeedback.live.protocol_runner import DEFAULT_MEDIA_BLOCK_S
    from devices.simulator import Segment

    return tuple(
        Segment(s.label if s.kind == "trigger" else s.kind, s.duration_s or DEFAULT_MEDIA_BLOCK_S)
        for s in plan.segments
    )


def _session_index(db: Path | None, protocol_name: str) -> int:
    """How many sessions with this protocol the store already holds (for counterbalancing)."""
    from biofeedback.sessions.store import SessionStore

    with SessionStore(db) as store:
        return sum(1 for s in store.list_sessions() if s.protocol == protocol_name)


def _recorded_order(source: HeartRateSource | None) -> object:
    """The ``order_used`` stored with a replayed recording, if it has one."""
    bundle = getattr(source, "bundle", None)
    session = getattr(bundle, "session", None)
    if not isinstance(session, dict):
        return None
    return session.get("order_used")


def _player(opts: SessionOptions, clock: SessionClock) -> Player | None:
    if opts.player == "none":
        return None
    if opts.player == "mpv":
        from biofeedback.playback.mpv import MpvPlayer

        accelerated = opts.source.simulate is not None or opts.source.replay is not None
        speed = opts.source.speed if accelerated else 1.0
        extra = [f"--speed={speed}"] if speed != 1.0 else []
        return MpvPlayer(silent=opts.silent_player, clock=clock.now, extra_args=extra)
    if opts.player == "manual":
        from biofeedback.playback.manual import ManualPlayer

        return ManualPlayer(clock=clock.now)
    raise InputError(f"--player: unknown player {opts.player!r} (mpv, manual or none)")


def replay_plan(protocol: Protocol, order_used: object) -> ProtocolPlan:
    """The plan a recording used (its stored ``order_used``), through ``protocol``'s blocks.

    A replay re-lives the recording: drawing a new order for a randomised or counterbalanced
    protocol would store one block's beats under another block's label."""
    from dataclasses import replace

    from biofeedback.sessions.protocol import ProtocolPlan

    if not isinstance(order_used, dict) or not isinstance(order_used.get("blocks"), list):
        raise InputError("--replay: the recording's block order (order_used) is unreadable")
    order = order_used["blocks"]
    labels = order_used.get("labels")
    n = len(protocol.blocks)
    fits = all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < n for i in order)
    used = [protocol.blocks[i].label for i in order] if fits else None
    if used is None or (isinstance(labels, list) and labels != used):
        raise InputError(
            f"--replay: the recording ran blocks {labels if labels else order}, which protocol "
            f"{protocol.name!r} does not have in that order; replay it with the protocol it "
            "was recorded with"
        )
    # The protocol's own plan over its blocks in the recorded order, once.
    in_order = replace(
        protocol, order="fixed", repetitions=1, blocks=tuple(protocol.blocks[i] for i in order)
    )
    segments = in_order.plan().segments
    seed = order_used.get("seed")
    index = order_used.get("session_index")
    return ProtocolPlan(
        segments,
        tuple(order),
        str(order_used.get("method", protocol.order)),
        seed if isinstance(seed, int) else None,
        index if isinstance(index, int) else 0,
    )


@dataclass(frozen=True, slots=True)
class PreparedSession:
    """A session whose input is checked and whose store is open; ``build`` makes the rest."""

    opts: SessionOptions
    store: SessionStore
    plan: ProtocolPlan | None
    protocol_json: Any
    replayed: HeartRateSource | None

    def build(self) -> LivePipeline:
        """The live pipeline: source, player, processor (imports numpy and scipy)."""
        from biofeedback.hrv.processor import HrvProcessor
        from biofeedback.hrv.settings import HrvSettings
        from biofeedback.live.pipeline import LivePipeline
        from biofeedback.live.recorder import SessionMeta
        from biofeedback.live.sources import simulator_config

        opts, src, plan = self.opts, self.opts.source, self.plan
        accelerated = src.simulate is not None or src.replay is not None
        speed = None if (opts.fast and accelerated) else (src.speed if accelerated else 1.0)
        clock = SessionClock(speed=speed, origin_s=0.0 if accelerated else None)
        truth = None
        source: HeartRateSource
        if src.simulate == "sim":
            from devices.simulator import SimulatedSource, SimulatedStrap

            config = simulator_config(src)
            if plan is not None:
                from dataclasses import replace

                config = replace(config, segments=plan_segments(plan), duration_s=src.duration_s)
            strap = SimulatedStrap(config)
            if src.strap == "h10":
                from devices.simulator.h10 import SimulatedH10Source

                source = SimulatedH10Source(strap, speed=speed, clock_offset_s=0.0)
            else:
                source = SimulatedSource(strap, speed=speed, clock_offset_s=0.0)

            def truth() -> dict[str, Any]:
                from biofeedback.live.simulation import truth_columns

                return truth_columns(strap.truth)

            device = {
                "name": source.device.name,
                "address": source.device.address,
                "kind": "simulated",
            }
        else:
            replayed = self.replayed
            source = replayed if replayed is not None else open_source(src, fast=opts.fast)
            device = {
                "name": source.device.name,
                "address": source.device.address,
                "kind": source.device.kind,
            }
        meta = SessionMeta(
            source="simulated" if src.simulate else ("replay" if src.replay else "ble"),
            device=device,
            profile=src.profile if src.simulate else None,
            protocol=self.protocol_json,
            order_used=plan.to_json() if plan is not None else None,
            extra={"seed": src.seed} if src.simulate else {},
        )
        return LivePipeline(
            source,
            clock=clock,
            meta=meta,
            store=self.store,
            plan=plan,
            player=_player(opts, clock),
            processor=HrvProcessor(
                HrvSettings(correction=opts.correction, artifact_method=opts.artifact_method)
            ),
            record=opts.record,
            truth=truth,
        )


def prepare_session(opts: SessionOptions) -> PreparedSession:
    """Check what the user asked for and open the store; quick (no numpy, no scipy)."""
    src = opts.source
    plan: ProtocolPlan | None = None
    protocol_json: Any = None
    replayed: HeartRateSource | None = None
    if src.replay is not None:
        # Opened first: a replay runs the recording's own block order.
        replayed = open_source(src, fast=opts.fast)
    if opts.protocol is not None:
        from biofeedback.sessions.protocol import load_protocol

        protocol = load_protocol(opts.protocol)
        recorded = _recorded_order(replayed)
        if recorded is not None:
            plan = replay_plan(protocol, recorded)
        else:
            index = _session_index(opts.db, protocol.name) if opts.record else 0
            # A simulated run is reproducible: its randomised order follows --seed (and the
            # session's index), unless the protocol fixes a seed of its own.
            order_seed = None
            if src.simulate is not None and protocol.seed is None and src.seed is not None:
                order_seed = int(src.seed) * 1_000_003 + index
            plan = protocol.plan(session_index=index, seed=order_seed)
        protocol_json = protocol.to_json()
    from biofeedback.sessions.store import SessionStore

    # The store is opened even when not recording from the start: the record key can begin later.
    return PreparedSession(opts, SessionStore(opts.db), plan, protocol_json, replayed)


def build_session(opts: SessionOptions) -> LivePipeline:
    return prepare_session(opts).build()
