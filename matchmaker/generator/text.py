"""Organisation names and free-text descriptions for generated rounds.

Descriptions are composed from phrase banks keyed by the codes of
``data/reference/vocabularies.csv`` (sectors, activities, objectives), so that two
organisations with the same sectors and activities share words and a TF-IDF similarity
between descriptions carries meaning. Codes missing from a bank fall back to their
vocabulary label, so a new vocabulary code never breaks the generator.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: One text per organisation or registration: a list or an object array.
Texts = Sequence[str] | np.ndarray
#: One tuple of codes per registration (sectors, activities or objectives).
CodeSets = Sequence[tuple[str, ...]]

#: Topic phrases per sector code (what an organisation in the sector works on).
SECTOR_TOPICS = {
    "water": ("smart water networks", "wastewater treatment", "desalination membranes", "water reuse in industry"),
    "eco_industries": ("industrial recycling", "circular economy services", "waste-to-resource processes",
                       "eco-design of products"),
    "smart_building": ("building automation", "smart HVAC control", "digital twins of buildings",
                       "sensor networks for facilities"),
    "smart_lighting": ("LED luminaires", "intelligent street lighting", "human-centric lighting",
                       "photonics for lighting"),
    "health": ("medical devices", "digital health platforms", "hospital logistics", "telemedicine services"),
    "personalised_medicine": ("companion diagnostics", "genomic profiling", "precision oncology",
                              "biomarker discovery"),
    "life_sciences": ("biotechnology research", "laboratory automation", "bioprocessing", "clinical trial services"),
    "emerging_technologies": ("quantum sensing", "artificial intelligence", "advanced materials",
                              "blockchain applications"),
    "key_enabling_technologies": ("nanotechnology", "micro-electronics", "industrial biotechnology",
                                  "advanced photonics"),
    "advanced_manufacturing": ("additive manufacturing", "industrial robotics", "Industry 4.0 production lines",
                               "precision machining"),
    "textile": ("technical textiles", "recycled fibres", "smart garments", "sustainable fashion supply chains"),
    "plastics": ("bio-based polymers", "plastic recycling", "injection moulding", "lightweight composites"),
    "automotive": ("electric vehicle components", "automotive electronics", "battery systems",
                   "vehicle lightweighting"),
    "railway": ("rolling stock maintenance", "railway signalling", "rail freight logistics",
                "track infrastructure monitoring"),
    "multimodality": ("intermodal freight terminals", "multimodal logistics platforms", "port and rail connections",
                      "supply chain visibility"),
    "urban_mobility": ("shared mobility services", "electric buses", "mobility-as-a-service apps",
                       "urban traffic management"),
    "packaging": ("sustainable packaging", "active and intelligent packaging", "paper-based packaging",
                  "food-contact materials"),
    "food": ("food processing", "food safety testing", "agri-food traceability", "plant-based food products"),
    "nzeb": ("nearly zero energy buildings", "deep energy renovation", "passive house design",
             "building energy performance"),
    "smart_city": ("urban data platforms", "smart city services", "citizen engagement tools",
                   "connected public infrastructure"),
    "energy": ("renewable energy systems", "energy storage", "smart grids", "green hydrogen"),
    "ict": ("cloud software", "cybersecurity", "data analytics", "Internet of Things solutions"),
    "sport": ("sports technology", "wearables for athletes", "sports facility management", "active lifestyle products"),
    "furniture": ("contract furniture", "wood processing", "ergonomic office furniture", "furniture design"),
    "construction": ("prefabricated construction", "building information modelling", "sustainable building materials",
                     "construction robotics"),
}

#: What a visitor seeks, per activity code (completes "We would like to ...").
ACTIVITY_SEEK = {
    "capacity_building": ("strengthen the skills of our team", "build capacity in our staff"),
    "knowledge_sharing": ("exchange knowledge and experience with peers", "share information on good practices"),
    "project_development": ("develop joint innovation and R&D projects", "prepare a common research proposal"),
    "market_research": ("carry out market research with local professionals",
                        "understand a new market and its customers"),
    "networking": ("meet potential partners and business opportunities", "extend our network of contacts"),
    "shadowing": ("shadow an experienced team in its daily work", "observe how a mature organisation operates"),
    "training": ("follow training in project management and SME finance", "take part in team work and group training"),
    "best_practice": ("learn business best practice from a leading organisation", "study proven management practices"),
    "marketing": ("improve our branding, sales and marketing", "learn how to market our products abroad"),
    "market_entry": ("prepare our entry into a new market", "find distributors for a new market"),
}

#: What a host offers, per activity code (completes "We offer ...").
ACTIVITY_OFFER = {
    "capacity_building": ("hands-on capacity building for visiting staff", "tailored capacity building sessions"),
    "knowledge_sharing": ("open sharing of our knowledge and experience", "access to our experts and lessons learnt"),
    "project_development": ("joint project development and R&D cooperation", "support to shape innovation projects"),
    "market_research": ("introductions for market research with our members", "insight into our regional market"),
    "networking": ("meetings with our member companies and partners", "access to our network of businesses"),
    "shadowing": ("the chance to shadow our team", "a place in our daily operations"),
    "training": ("training in project management and SME finance", "group training and team work sessions"),
    "best_practice": ("a close look at our business best practice", "demonstrations of our proven processes"),
    "marketing": ("coaching on branding, sales and marketing", "advice on marketing in our country"),
    "market_entry": ("support for entering our market", "contacts for new-market entry"),
}

#: Objective phrases (complete "The exchange should help us ...").
OBJECTIVE_PHRASES = {
    "learn_from_cluster": ("learn from the actors of another cluster", "benchmark ourselves against a strong cluster"),
    "new_markets": ("explore growth opportunities in new markets", "find customers outside our region"),
    "new_technologies": ("take up new digital technologies", "accelerate our digitalisation"),
    "green_transition": ("move towards green and low-carbon solutions",
                         "reduce the environmental footprint of our products"),
    "interregional_collaboration": ("build lasting interregional collaboration",
                                    "invest in strategic cooperation between regions"),
}

#: How SMEs and clusters describe themselves (scaling-up support and other
#: organisations use the kind in their name).
TYPE_PHRASES = {
    "sme": ("a small company", "an innovative SME", "a family-owned SME", "a growing start-up"),
    "cluster_organisation": ("a cluster organisation", "a business network", "an industry cluster",
                             "a regional cluster association"),
}

SCALEUP_KINDS = ("Technology Centre", "Innovation Hub", "Digital Innovation Hub", "Research Institute",
                 "Fab Lab", "Incubator", "Accelerator", "Creative Hub")
OTHER_KINDS = ("Foundation", "Agency", "Consultancy", "Association")


def _with_article(kind: str) -> str:
    return ("an " if kind[0] in "AEIOU" else "a ") + kind.lower()


#: Common legal-form suffix of a company per country (used in SME names).
LEGAL_SUFFIX = {
    "AT": "GmbH", "BE": "BV", "BG": "EOOD", "HR": "d.o.o.", "CY": "Ltd", "CZ": "s.r.o.", "DK": "ApS",
    "EE": "OÜ", "FI": "Oy", "FR": "SAS", "DE": "GmbH", "GR": "IKE", "HU": "Kft.", "IE": "Ltd",
    "IT": "S.r.l.", "LV": "SIA", "LT": "UAB", "LU": "S.à r.l.", "MT": "Ltd", "NL": "B.V.",
    "PL": "Sp. z o.o.", "PT": "Lda.", "RO": "S.R.L.", "SK": "s.r.o.", "SI": "d.o.o.", "ES": "S.L.",
    "SE": "AB", "IS": "ehf.", "AL": "sh.p.k.", "BA": "d.o.o.", "XK": "L.L.C.", "ME": "d.o.o.",
    "MK": "DOOEL", "RS": "d.o.o.", "TR": "A.Ş.", "AM": "LLC", "MD": "S.R.L.", "UA": "LLC",
    "GB": "Ltd", "NO": "AS", "CH": "AG", "LI": "AG",
}

_SYL1 = ("Al", "Bel", "Cor", "Dal", "El", "Fen", "Gal", "Hel", "Ist", "Jor", "Kal", "Lum", "Mar", "Nor",
         "Or", "Pol", "Quan", "Ros", "Sol", "Tor", "Ul", "Val", "Wen", "Xan", "Zen", "Ar", "Bra", "Cen",
         "Dor", "Ev", "Fal", "Gra", "Hal", "Ion", "Kor", "Lin", "Mer", "Nov", "Per", "Ter")
_SYL2 = ("a", "e", "i", "o", "u", "ia", "io", "ea", "ar", "en", "is", "on", "um", "el", "ix", "or",
         "an", "et", "os", "ir", "al", "em", "in", "ur", "y")
_SYL3 = ("tex", "tec", "lux", "via", "gen", "mat", "nova", "tron", "lab", "dyn", "sys", "med", "flow",
         "grid", "pak", "bio", "ware", "line", "tek", "form", "max", "net", "port", "wave", "cell",
         "print", "mill", "works", "sense", "logic")


def brand_names(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` distinct invented brand words such as ``"Solentex"``.

    Drawn without replacement from the syllable combinations (30,000 of them); beyond
    that a numeric suffix keeps them distinct.
    """
    combos = len(_SYL1) * len(_SYL2) * len(_SYL3)
    k = rng.choice(combos, size=min(n, combos), replace=False)
    a, rest = np.divmod(k, len(_SYL2) * len(_SYL3))
    b, c = np.divmod(rest, len(_SYL3))
    words = [_SYL1[i] + _SYL2[j] + _SYL3[m] for i, j, m in zip(a, b, c)]
    words += [f"{words[i % combos]} {i // combos + 1}" for i in range(combos, n)]
    return np.array(words, dtype=object)


def _title(label: str) -> str:
    """``"Key enabling technologies"`` -> ``"Key Enabling Technologies"`` (acronyms kept)."""
    return " ".join(w if w.isupper() or w in ("and", "of") else w[:1].upper() + w[1:] for w in label.split())


def org_names(org_type: Texts, country: Texts, city: Texts, first_sector_label: Texts,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Plausible, distinct organisation names and how each organisation calls itself.

    SMEs: ``"<Brand> <legal form>"``; clusters: ``"<Brand> <Sector> Cluster"``;
    scaling-up support organisations: ``"<Brand> <kind> <City>"``; others:
    ``"<Brand> <kind>"``.

    Returns
    -------
    names, type_phrases : numpy.ndarray of str
        ``type_phrases`` such as ``"a fab lab"``, used by :func:`descriptions`.
    """
    n = len(org_type)
    brand = brand_names(n, rng)
    kind = rng.integers(0, len(SCALEUP_KINDS), n)
    other_kind = rng.integers(0, len(OTHER_KINDS), n)
    phrase = rng.integers(0, 4, n)
    names, phrases = [], []
    for i in range(n):
        t = org_type[i]
        if t == "sme":
            names.append(f"{brand[i]} {LEGAL_SUFFIX.get(country[i], 'Ltd')}")
        elif t == "cluster_organisation":
            names.append(f"{brand[i]} {_title(first_sector_label[i])} Cluster")
        elif t == "scaleup_support":
            names.append(f"{brand[i]} {SCALEUP_KINDS[kind[i]]} {city[i]}")
            phrases.append(_with_article(SCALEUP_KINDS[kind[i]]))
            continue
        else:
            names.append(f"{brand[i]} {OTHER_KINDS[other_kind[i]]}")
            phrases.append(_with_article(OTHER_KINDS[other_kind[i]]))
            continue
        options = TYPE_PHRASES[t]
        phrases.append(options[phrase[i] % len(options)])
    return np.array(names, dtype=object), np.array(phrases, dtype=object)


_OPENINGS = (
    "We are {type} based in {city}, active in {sectors}.",
    "{Type} from {city} working in {sectors}.",
    "Based in {city}, we are {type} specialised in {sectors}.",
    "{Type} in {city} with a focus on {sectors}.",
)
_TOPIC_SENTENCES = (
    "Our work focuses on {t1} and {t2}.",
    "We develop solutions in {t1}, with growing activity in {t2}.",
    "Our team has experience with {t1} and is now investing in {t2}.",
    "Current projects cover {t1} as well as {t2}.",
)
_SEEK = ("We would like to {a}.", "During the exchange we want to {a}.", "We are looking for a host to {a}.")
_SEEK2 = ("We would like to {a} and {b}.", "During the exchange we want to {a} and to {b}.")
_OFFER = ("We offer {a}.", "Visitors will get {a}.", "We can provide {a}.")
_OFFER2 = ("We offer {a} and {b}.", "Visitors will get {a}, as well as {b}.")
_OBJECTIVE = ("The exchange should help us {o}.", "Our aim is to {o}.", "Above all, we want to {o}.")


def _pick(options, u: float) -> str:
    return options[min(int(u * len(options)), len(options) - 1)]


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def descriptions(role: Texts, type_phrase: Texts, city: Texts, sectors: CodeSets, activities: CodeSets,
                 objectives: CodeSets, sector_labels: dict[str, str], rng: np.random.Generator) -> np.ndarray:
    """English descriptions of 2 to 4 sentences, one per registration.

    Parameters
    ----------
    role, type_phrase, city : sequences of str
        Per registration (``type_phrase`` from :func:`org_names`, such as ``"a fab lab"``).
    sectors, activities, objectives : sequences of tuples of codes
        Per registration, as in ``registrations.csv``.
    sector_labels : dict
        Sector code -> label (from the vocabulary), for the opening sentence.
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray of str
    """
    n = len(role)
    u = rng.random((n, 10))
    n_sentences = rng.choice([2, 3, 4], size=n, p=[0.2, 0.45, 0.35])
    out = []
    for i in range(n):
        secs = sectors[i]
        typ = type_phrase[i]
        labels = [sector_labels.get(s, s).lower() for s in secs]
        opening = _pick(_OPENINGS, u[i, 1]).format(
            type=typ, Type=typ[0].upper() + typ[1:], city=city[i], sectors=_join(labels))
        topics = [t for s in secs for t in SECTOR_TOPICS.get(s, (sector_labels.get(s, s).lower(),))]
        j1 = int(u[i, 2] * len(topics))
        j2 = (j1 + 1 + int(u[i, 3] * (len(topics) - 1))) % len(topics) if len(topics) > 1 else j1
        parts = [opening, _pick(_TOPIC_SENTENCES, u[i, 4]).format(t1=topics[j1], t2=topics[j2])]
        seek = role[i] == "visitor"
        bank = ACTIVITY_SEEK if seek else ACTIVITY_OFFER
        acts = activities[i]
        phrases = [_pick(bank.get(a, (a.replace("_", " "),)), u[i, 5]) for a in acts]
        if n_sentences[i] >= 3 or not objectives[i]:
            if len(phrases) >= 2 and u[i, 6] < 0.6:
                k = int(u[i, 7] * (len(phrases) - 1))
                tpl = _pick(_SEEK2 if seek else _OFFER2, u[i, 8])
                parts.append(tpl.format(a=phrases[k], b=phrases[k + 1]))
            else:
                tpl = _pick(_SEEK if seek else _OFFER, u[i, 8])
                parts.append(tpl.format(a=phrases[int(u[i, 7] * len(phrases))]))
        if (n_sentences[i] == 4 or n_sentences[i] == 2) and objectives[i]:
            objs = objectives[i]
            o = objs[int(u[i, 9] * len(objs))]
            phrase = _pick(OBJECTIVE_PHRASES.get(o, (o.replace("_", " "),)), u[i, 3])
            parts.append(_pick(_OBJECTIVE, u[i, 6]).format(o=phrase))
        out.append(" ".join(parts))
    return np.array(out, dtype=object)
