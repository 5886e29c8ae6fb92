"""A simulated chest strap that sends the bytes a real one sends, with ground truth.

The model, from the heart to the radio, generated in 600 s chunks from seeded streams (so the
bytes do not depend on how fast or how far the caller reads):

1. **Autonomic state** (:mod:`.physiology`). A session draws its baseline (resting heart rate,
   vagal tone as ln RMSSD, breathing rate) around the profile's person. Each segment of the
   timeline moves the state towards the trigger's response (ΔHR bpm, Δln RMSSD, Δbreathing Hz,
   scaled by a per-session factor of coefficient of variation ``session_cv``) with a first-order
   onset; unknown labels, ``baseline`` and ``washout`` relax back to baseline. Heart rate also
   carries an Ornstein-Uhlenbeck VLF term, a slow drift, and for the ``tingles`` profile short
   accelerations at Poisson tingle moments (transient sympathetic arousal; Valtakari et al.
   2019, doi:10.1371/journal.pone.0226692; FACTS.md §1.6-1.7).
2. **Beats** by integral pulse frequency modulation (Bayly 1968, IEEE Trans Biomed Eng 15:257;
   Mateo & Laguna 2000, IEEE Trans Biomed Eng 47(8):985-996): the rate is the mean heart rate
   modulated by respiratory sinus arrhythmia at the breathing rate, ~0.1 Hz Mayer waves
   (Julien 2006, doi:10.1016/j.cardiores.2005.11.008) and white beat-to-beat noise. The RSA
   amplitude is solved so that the expected RMSSD equals exp(vagal tone), so RSA grows with
   vagal tone and with slower breathing (Hirsch & Bishop 1981,
   doi:10.1152/ajpheart.1981.241.4.H620). At rest a 5-minute window has RMSSD 30-60 ms and SDNN
   35-55 ms, with the spectral peak at the breathing rate (Task Force 1996,
   doi:10.1161/01.CIR.93.5.1043, for the bands).
3. **The strap's clock**: beat times are rounded to 1/1024 s and RRs are differences of the
   rounded times, so a cumulative sum of the RRs gives the beat times back exactly.
4. **Detector artifacts** (:mod:`.artifacts`): ectopic (short-long pair), missed (merged RR),
   extra (split RR) per beat; contact-loss episodes (contact bits 10b, no RR) and link outages
   per hour.
5. **The radio** (:mod:`.packetizer`): a notification every ``notify_period_s`` with the RRs
   ready since the last one, at most 9/8/7 per packet by flags with the overflow carried over
   (FACTS.md §4.1), a slowly varying 0..``latency_max_s`` delivery delay that never reorders
   (FACTS.md §4.3: RRs can be 3-4 s old), RR-less start-up packets (``06 3c``) after each
   connection, a smoothed heart-rate byte, and malformed notifications that carry no beat.

:class:`SimulatedStrap` yields :data:`SimEvent` values and fills :class:`GroundTruth`;
:class:`SimulatedSource` turns them into the typed source events of :mod:`devices.events`.
"""

from __future__ import annotations

from devices.simulator.artifacts import Artifact
from devices.simulator.config import ArtifactRates, Segment, SimConfig, parse_segments
from devices.simulator.packetizer import SimEvent, SimLinkDown, SimLinkUp, SimPacket
from devices.simulator.profile import Person, Profile, TriggerResponse, load_profile
from devices.simulator.source import SimulatedSource
from devices.simulator.strap import SimulatedStrap
from devices.simulator.truth import GroundTruth

__all__ = [
    "Artifact",
    "ArtifactRates",
    "GroundTruth",
    "Person",
    "Profile",
    "Segment",
    "SimConfig",
    "SimEvent",
    "SimLinkDown",
    "SimLinkUp",
    "SimPacket",
    "SimulatedSource",
    "SimulatedStrap",
    "TriggerResponse",
    "load_profile",
    "parse_segments",
]
