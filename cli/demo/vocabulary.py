"""The fixed vocabulary `cli.demo.sample` draws from: topics, keywords, organizations, names.

Static data only; changing any of it changes every sample document.
"""

from __future__ import annotations


def _phrases(text: str, separator: str | None = ";") -> list[str]:
    return [" ".join(phrase.split()) for phrase in text.split(separator)]


_VOCABULARY = """
machine learning: deep learning; reinforcement learning; graph neural networks; natural language
  processing; computer vision; Bayesian inference; federated learning; explainable AI
distributed systems: consensus protocols; stream processing; cloud computing; edge computing;
  fault tolerance; energy-efficient computing; storage systems
algorithms: graph theory; combinatorial optimisation; approximation algorithms; complexity theory;
  integer programming; online algorithms
security: cryptography; differential privacy; formal verification; malware analysis; network
  security; secure multiparty computation
life sciences: genomics; protein structure prediction; bioinformatics; epidemiology; single-cell
  sequencing; drug discovery
earth and climate: climate modelling; remote sensing; hydrology; atmospheric chemistry; ocean
  circulation; biodiversity monitoring
physics and materials: quantum computing; condensed matter; photonics; battery materials; plasma
  physics; high-performance computing
society and economics: computational social science; digital humanities; econometrics; public
  health policy; science of science; misinformation
"""
TOPICS: dict[str, list[str]] = {
    topic: _phrases(keywords)
    for topic, _, keywords in (
        line.partition(":") for line in _VOCABULARY.replace("\n  ", " ").strip().splitlines()
    )
}
_ORGANIZATIONS = """University of Tartu; TU Delft; ETH Zurich; University of Helsinki; KTH Royal
  Institute of Technology; Sorbonne University; University of Edinburgh; Charles University;
  University of Vienna; Jagiellonian University; University of Lisbon; Aarhus University; Ghent
  University; Max Planck Institute for Informatics; CNRS; Fraunhofer Institute; University of
  Bologna; Tallinn University of Technology; University of Oslo; Trinity College Dublin"""
ORGANIZATIONS = _phrases(_ORGANIZATIONS)
FIRST_NAMES = _phrases(
    """Ada Alan Grace Edsger Barbara Donald Frances John Karen Leslie Margaret Niklaus
  Radia Shafi Tim Whitfield Yoshua Zhang Ingrid Mirjam Olga Pekka Rasmus Sofia Tiina Jaan Elena
  Marta Lukas Aino""",
    None,
)
LAST_NAMES = _phrases(
    """Lovelace Turing Hopper Dijkstra Liskov Knuth Allen Backus Jones Lamport Hamilton
  Wirth Perlman Goldwasser Berners-Lee Diffie Bengio Wei Daubechies Kask Petrova Virtanen Nielsen
  Rossi Tamm Saar Novak Kowalska Weber Korhonen""",
    None,
)
TITLES = ("Scalable {0} for {1}", "{0} meets {1}: towards {2}", "Robust {0} with {1}",
          "A {0} approach to {1}", "Understanding {1} through {0}")  # fmt: skip
