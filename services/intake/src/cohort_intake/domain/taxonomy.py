"""The declared taxonomy of domains a project can be in (and fields experts study).

A domain is `<field>.<subfield>`; a qualification may name a field alone (admitting every
subfield) or a full domain. Extending it is additive; never rename an entry that projects use.
"""

from __future__ import annotations

TAXONOMY: dict[str, tuple[str, ...]] = {
    "biology": ("molecular", "genetics", "ecology", "neuroscience", "microbiology"),
    "chemistry": ("organic", "inorganic", "physical", "analytical", "biochemistry"),
    "computer_science": ("algorithms", "systems", "security", "machine_learning", "theory"),
    "economics": ("microeconomics", "macroeconomics", "econometrics"),
    "education": ("k12_mathematics", "k12_science", "language_teaching"),
    "finance": ("accounting", "markets", "corporate_finance"),
    "history": ("ancient", "modern", "economic"),
    "law": ("contracts", "criminal", "corporate", "intellectual_property", "international"),
    "linguistics": ("syntax", "semantics", "translation"),
    "mathematics": ("algebra", "analysis", "geometry", "probability", "statistics", "number_theory"),
    "medicine": ("general_practice", "cardiology", "oncology", "radiology", "pharmacology"),
    "philosophy": ("ethics", "logic", "philosophy_of_mind"),
    "physics": ("classical", "quantum", "condensed_matter", "astrophysics", "particle"),
    "software": ("python", "javascript", "rust", "go", "java", "cpp", "sql"),
}

DOMAINS: frozenset[str] = frozenset(f"{field}.{sub}" for field, subs in TAXONOMY.items() for sub in subs)


def is_domain(value: str) -> bool:
    return value in DOMAINS


def is_field(value: str) -> bool:
    """A field of study: a top-level field or a full domain."""
    return value in TAXONOMY or value in DOMAINS
