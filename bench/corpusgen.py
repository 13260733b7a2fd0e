"""Seeded generator of realistic story records, for benchmarks.

Real records (see ``/work/shared/corpus/smartable``) are Markdown files with
YAML front matter: mostly wire-service market reports and press releases, some
news and opinion, 0–8 ``related`` entries, one image, an opaque ``secured``
token. A benchmark over 70 of them measures luck more than search quality, so
this module makes thousands more of the same shape and size.

Two kinds of generated record:

* **background** records: random events over the usual topics, companies,
  outlets and years;
* **near-neighbour distractors** (``near=...``): for each real record, stories
  that share its entities (companies, products, people), its subject phrase,
  its topics and often its outlet, but report *another event*. A search that
  returns one of those for a question about the real story is confusing
  stories, not finding them.

Everything is drawn from one ``random.Random(seed)`` and only lists and dicts
are iterated (never sets), so a seed gives byte-identical output on every run,
whatever ``PYTHONHASHSEED`` is.

Usage::

    python -m bench.corpusgen --n 10000 --out /tmp/corpus --seed 1 \
        --near /work/shared/corpus/smartable
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import re
import sys
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

from bot.core.records import Article, RecordError, article_from_mapping, parse_file, scan_paths

# ---------------------------------------------------------------------------
# Vocabulary. Weights follow the real corpus, smoothed so rare topics still
# get enough stories to matter.

TOPIC_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("AI", 10),
    ("Machine Learning", 12),
    ("AI in Healthcare", 10),
    ("Natural Language Processing", 9),
    ("AI in Robotics", 6),
    ("Computer Vision", 6),
    ("AI in Autos", 5),
    ("AI in Finance", 5),
    ("AI Ethics", 3),
    ("IBM AI", 3),
    ("AWS AI", 3),
    ("Microsoft AI", 2),
    ("Google AI", 2),
    ("AI Hardware", 2),
    ("Facebook AI", 1),
    ("AI in Marketing", 1),
    ("AI in Sales", 1),
)

TECH: dict[str, tuple[str, ...]] = {
    "AI": (
        "artificial intelligence",
        "AI as a service",
        "AI consulting",
        "enterprise AI",
        "AI infrastructure",
        "generative AI",
        "AI software",
        "cognitive computing",
    ),
    "Computer Vision": (
        "facial recognition",
        "image recognition",
        "object detection",
        "video analytics",
        "machine vision",
        "optical character recognition",
        "gesture recognition",
        "visual inspection",
        "3D sensing",
        "pedestrian detection",
        "emotion recognition",
        "license plate recognition",
        "patient monitoring cameras",
    ),
    "Natural Language Processing": (
        "natural language processing",
        "speech recognition",
        "voice recognition",
        "conversational AI",
        "chatbots",
        "sentiment analysis",
        "machine translation",
        "text analytics",
        "voice assistants",
        "large language models",
        "intent detection",
        "call center automation",
        "document understanding",
        "conversational systems",
    ),
    "Machine Learning": (
        "machine learning",
        "deep learning",
        "AutoML",
        "reinforcement learning",
        "MLOps",
        "predictive analytics",
        "federated learning",
        "edge AI",
        "machine learning as a service",
        "neural networks",
        "anomaly detection",
        "synthetic data",
        "graph neural networks",
    ),
    "AI in Healthcare": (
        "medical imaging",
        "clinical decision support",
        "drug discovery",
        "patient monitoring",
        "telemedicine",
        "diagnostic AI",
        "remote patient care",
        "digital pathology",
        "health biometrics",
        "precision medicine",
        "hospital triage",
        "electronic health records",
    ),
    "AI in Robotics": (
        "service robots",
        "collaborative robots",
        "warehouse robots",
        "surgical robots",
        "delivery robots",
        "industrial robots",
        "nanorobotics",
        "humanoid robots",
        "agricultural robots",
        "inspection drones",
        "robotic process automation",
        "cleaning robots",
    ),
    "AI in Autos": (
        "autonomous vehicles",
        "self-driving trucks",
        "driver monitoring",
        "advanced driver assistance",
        "in-car voice assistants",
        "robotaxis",
        "predictive maintenance",
        "lidar perception",
        "fleet telematics",
        "autonomous shuttles",
    ),
    "AI in Finance": (
        "fraud detection",
        "credit scoring",
        "anti-money laundering",
        "algorithmic trading",
        "robo-advisors",
        "insurance claims automation",
        "financial crime compliance",
        "payments risk scoring",
        "KYC automation",
        "finance back-office automation",
        "financial crime",
    ),
    "AI Ethics": (
        "algorithmic bias",
        "facial recognition surveillance",
        "AI transparency",
        "explainable AI",
        "AI governance",
        "data privacy",
        "deepfakes",
        "responsible AI",
        "AI regulation",
        "human rights safeguards",
    ),
    "AI Hardware": (
        "AI chips",
        "GPUs",
        "inference accelerators",
        "neuromorphic chips",
        "FPGAs",
        "edge AI processors",
        "high-bandwidth memory",
        "AI supercomputers",
        "tensor processors",
        "GPU cloud",
    ),
    "AI in Marketing": (
        "ad targeting",
        "marketing personalisation",
        "customer analytics",
        "programmatic advertising",
        "AI advertising",
    ),
    "AI in Sales": (
        "sales forecasting",
        "lead scoring",
        "conversational commerce",
        "sales enablement AI",
    ),
    "Cloud": (
        "cloud AI services",
        "GPU cloud",
        "serverless inference",
        "AI data centres",
        "hybrid cloud",
        "cloud computing",
    ),
}

# Company topics are about one company; their stories pick its products.
COMPANY_TOPICS: dict[str, str] = {
    "IBM AI": "IBM",
    "AWS AI": "Amazon Web Services",
    "Microsoft AI": "Microsoft",
    "Google AI": "Google",
    "Facebook AI": "Facebook",
}
PRODUCTS: dict[str, tuple[str, ...]] = {
    "IBM": ("Watson", "Watson Assistant", "Watson Discovery", "Cloud Pak for Data", "watsonx"),
    "Microsoft": ("Azure", "Azure Machine Learning", "Cognitive Services", "Copilot", "Bing"),
    "Amazon Web Services": ("SageMaker", "Rekognition", "Lex", "Bedrock", "Transcribe"),
    "Amazon": ("Alexa", "Rekognition", "Ring", "Astro"),
    "Google": ("TensorFlow", "Vertex AI", "Cloud TPU", "Dialogflow", "Gemini"),
    "Facebook": ("PyTorch", "Llama", "Portal", "Detectron"),
    "Nvidia": ("CUDA", "DGX", "Jetson", "Clara", "DRIVE"),
    "Intel": ("Gaudi", "Movidius", "OpenVINO", "Xeon"),
}
TECH_TOPIC_OF_COMPANY = {
    "IBM AI": "AI",
    "AWS AI": "Machine Learning",
    "Microsoft AI": "AI",
    "Google AI": "Machine Learning",
    "Facebook AI": "Computer Vision",
}

BIG_COMPANIES = (
    "IBM",
    "Microsoft",
    "Google",
    "Amazon",
    "Nvidia",
    "Intel",
    "Oracle",
    "Salesforce",
    "Meta",
    "Apple",
    "Baidu",
    "Alibaba",
    "Tencent",
    "Samsung",
    "Siemens",
    "Qualcomm",
    "Cisco",
    "SAP",
    "Accenture",
    "Infosys",
    "Huawei",
    "Dell",
    "HPE",
    "Adobe",
    "AMD",
    "Arm",
    "Bosch",
    "Philips",
    "Sony",
    "Wipro",
    "Capgemini",
    "Atos",
    "Deloitte",
    "Honeywell",
    "ABB",
    "Fanuc",
    "Medtronic",
    "GE HealthCare",
    "Visa",
    "Mastercard",
    "JPMorgan",
    "HSBC",
    "Toyota",
    "Volkswagen",
    "Ford",
)
_BIG_SET = frozenset(BIG_COMPANIES) | frozenset(COMPANY_TOPICS.values())
RESEARCH_FIRMS = (
    "Acumen Research and Consulting",
    "Grand View Research",
    "MarketsandMarkets",
    "Transparency Market Research",
    "Market Research Future",
    "Kenneth Research",
    "ReportsnReports",
    "Allied Market Research",
    "Fortune Business Insights",
    "Mordor Intelligence",
    "Research and Markets",
    "Reports and Data",
    "Emergen Research",
    "Polaris Market Research",
    "Verified Market Research",
    "Astute Analytica",
)
_SYL_A = (
    "Neur",
    "Cogn",
    "Quant",
    "Vect",
    "Syn",
    "Lum",
    "Astr",
    "Hel",
    "Orb",
    "Dat",
    "Clar",
    "Brigh",
    "Sens",
    "Rob",
    "Med",
    "Fin",
    "Agr",
    "Aut",
    "Verb",
    "Kine",
    "Opt",
    "Prax",
    "Zen",
    "Tess",
    "Nov",
    "Cal",
    "Ver",
    "Spect",
    "Inf",
    "Pix",
)
_SYL_B = (
    "ify",
    "ora",
    "ex",
    "io",
    "iq",
    "ai",
    "ly",
    "on",
    "ium",
    "ica",
    "ara",
    "yx",
    "eon",
    "ata",
    "ento",
    "ix",
    "ova",
    "ana",
)
_CO_SUFFIX = (
    "",
    "",
    "",
    " AI",
    " Labs",
    " Technologies",
    " Inc.",
    " Robotics",
    " Health",
    " Analytics",
    " Systems",
    ".ai",
    " Software",
)
_FIRST = (
    "Arvind",
    "Camilla",
    "Evangelos",
    "Priya",
    "Daniel",
    "Mei",
    "Oluwaseun",
    "Sofia",
    "Lukas",
    "Aisha",
    "Rahul",
    "Hannah",
    "Kenji",
    "Fatima",
    "Marco",
    "Elena",
    "Tomasz",
    "Grace",
    "Omar",
    "Ingrid",
    "Diego",
    "Nadia",
    "Samuel",
    "Yuki",
    "Chloe",
    "Ravi",
    "Amara",
    "Jonas",
    "Lucia",
    "Wei",
    "Emeka",
    "Sarah",
    "Pedro",
    "Anika",
    "Bernard",
    "Kavita",
    "Dave",
    "Amelia",
    "Bill",
    "Nirmala",
    "Ameek",
    "Laura",
    "Tariq",
    "Claire",
    "Hiroshi",
    "Zara",
    "Felix",
    "Maya",
)
_LAST = (
    "Krishna",
    "Patel",
    "Okafor",
    "Schmidt",
    "Nakamura",
    "Rossi",
    "Haddad",
    "Kowalski",
    "Chen",
    "Garcia",
    "Johansson",
    "Mensah",
    "Dubois",
    "Singh",
    "Kim",
    "Novak",
    "Fernandes",
    "Adeyemi",
    "Larsen",
    "Moreau",
    "Ibrahim",
    "Tanaka",
    "Walsh",
    "Costa",
    "Bauer",
    "Reyes",
    "Andersson",
    "Mehta",
    "Osei",
    "Lindqvist",
    "Park",
    "Hughes",
    "Alvarez",
    "Sato",
    "Brennan",
    "Varga",
)
INDUSTRIES = (
    "healthcare",
    "retail",
    "banking",
    "insurance",
    "manufacturing",
    "logistics",
    "agriculture",
    "education",
    "telecom",
    "energy",
    "automotive",
    "public sector",
    "media",
    "hospitality",
    "pharmaceuticals",
    "real estate",
    "construction",
    "e-commerce",
    "gaming",
    "legal services",
)
USERS = (
    "clinicians",
    "fraud teams",
    "retailers",
    "developers",
    "fundraisers",
    "call center agents",
    "data scientists",
    "plant managers",
    "farmers",
    "teachers",
    "radiologists",
    "insurers",
    "small businesses",
    "city planners",
    "marketers",
    "finance teams",
    "fleet operators",
)
GOALS = (
    "cut operating costs",
    "spot defects earlier",
    "answer customer calls faster",
    "detect fraud in real time",
    "triage patients",
    "forecast demand",
    "reduce paperwork",
    "monitor equipment remotely",
    "personalise offers",
    "automate back-office work",
    "shorten diagnosis times",
    "keep shelves stocked",
    "screen job applicants",
    "track crop health",
    "flag risky transactions",
    "summarise long documents",
)
REGIONS = (
    "North America",
    "Europe",
    "Asia-Pacific",
    "Latin America",
    "the Middle East",
    "Africa",
    "India",
    "Japan",
    "Germany",
    "the UK",
    "Australia",
    "Canada",
    "Brazil",
    "France",
    "Singapore",
    "the UAE",
    "South Korea",
    "the Nordics",
    "Southeast Asia",
    "Saudi Arabia",
)
CITIES = (
    "SAN FRANCISCO",
    "NEW YORK",
    "LONDON",
    "DUBLIN",
    "TORONTO",
    "BANGALORE",
    "TOKYO",
    "BERLIN",
    "SINGAPORE",
    "BOSTON",
    "AUSTIN, Texas",
    "TEL AVIV",
    "PARIS",
    "SYDNEY",
    "DUBAI",
    "SEOUL",
    "SEATTLE",
    "CHICAGO",
    "MUNICH",
    "ZURICH",
    "STOCKHOLM",
    "AMSTERDAM",
    "PALO ALTO, Calif.",
    "SANTA CLARA, Calif.",
    "PORTLAND, Ore.",
    "ANN ARBOR, Mich.",
    "PUNE, India",
    "MONTREAL",
    "MADRID",
    "LOS ANGELES",
)
WIRES = (
    "PRNewswire",
    "GLOBE NEWSWIRE",
    "Business Wire",
    "PRWEB",
    "ACCESSWIRE",
    "The Expresswire",
    "EINPresswire",
)
REGULATORS = (
    "the FTC",
    "EU data protection authorities",
    "the UK's ICO",
    "France's CNIL",
    "Brazil's ANPD",
    "the SEC",
    "state attorneys general",
    "Canada's privacy commissioner",
    "Australia's OAIC",
    "Germany's Federal Cartel Office",
    "the European Commission",
)
CONCERNS = (
    "privacy concerns",
    "bias concerns",
    "racial profiling fears",
    "data protection rules",
    "safety concerns",
    "accuracy complaints",
    "consumer complaints",
    "transparency rules",
    "surveillance fears",
)
AWARDS = (
    "AI Breakthrough Awards",
    "Global Tech Awards",
    "Stevie Awards",
    "Edison Awards",
    "CogX Awards",
    "Fintech Innovation Awards",
    "HealthTech Awards",
    "Red Herring Top 100",
)
CONFERENCES = (
    "World Outlook Financial Conference",
    "AI Summit London",
    "Healthcare AI Forum",
    "Robotics Week Expo",
    "Cloud Native Summit",
    "Emerging Growth Conference",
    "Future of Finance Forum",
    "Edge AI Developer Days",
    "Smart Mobility Congress",
)
ROLES = ("AI", "technology", "data", "product", "science", "operating", "revenue")
PRODUCT_A = (
    "Smart",
    "Vision",
    "Insight",
    "Pulse",
    "Clear",
    "Deep",
    "Sense",
    "Flow",
    "Edge",
    "Nova",
    "Signal",
    "Sentinel",
    "Quantum",
    "Bright",
    "True",
    "Swift",
)
PRODUCT_B = (
    "Flow",
    "IQ",
    "Studio",
    "Hub",
    "Suite",
    "Engine",
    "Pilot",
    "Lens",
    "Core",
    "Assist",
    "Guard",
    "Scan",
    "Mind",
    "Works",
)
IMPACTS = ("COVID-19", "the Chip Shortage", "Inflation", "Tariffs", "Energy Prices")
CRISES = ("COVID-19 Crisis", "Chip Shortage", "Supply Chain Crunch", "Rate Hikes", "Slowdown")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
MON3 = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
MARKET_FILLER = (
    "The report profiles leading vendors and their strategies.",
    "Analysts expect spending on {tech} to keep rising through {y2}.",
    "North America held the largest share of revenue, while Asia-Pacific is the fastest-growing "
    "region.",
    "Key players covered include {org} and {org2}.",
    "Customers in {industry} have been early adopters.",
    "The study segments the market by component, deployment, enterprise size and end user.",
)
FILLER = (
    "The company did not disclose financial terms.",
    "Analysts expect spending on {tech} to keep rising through {y2}.",
    "{org} said the first customers would go live in the coming months.",
    "Critics say the technology still struggles outside controlled settings.",
    "The announcement follows a year of rapid growth in demand for {tech}.",
    "Shares were little changed in early trading.",
    "Pilots in {region} will run until the end of the year.",
    "Customers in {industry} have been early adopters.",
    "Regulators have not commented on the plans.",
)
BODY_HEADINGS = ("## What happened", "## Why it matters", "## What's next", "## Background")

# Real records skew to 2020–2021; the benchmark needs every year of a long-lived bot.
DATE_START = datetime(2018, 1, 1, tzinfo=UTC)
DATE_END = datetime(2026, 11, 28, tzinfo=UTC)

IMAGE_SIZES = (
    (1200, 630),
    (600, 350),
    (750, 563),
    (1400, 933),
    (620, 349),
    (800, 446),
    (1600, 900),
    (300, 300),
    (1200, 800),
    (1024, 512),
    (640, 360),
)


@dataclass(frozen=True, slots=True)
class Outlet:
    name: str
    domain: str
    weight: int
    url: str  # str.format pattern over _UrlParts keys
    amp: str = ""  # "", "suffix", "query", "prefix"
    img: str = "https://images.{domain}/{yyyy}/{mm}/{hex16}.jpg"


OUTLETS: tuple[Outlet, ...] = (
    Outlet(
        "MarketWatch",
        "marketwatch.com",
        30,
        "https://www.marketwatch.com/press-release/{slug}-{date}",
        img="https://mw3.wsj.net/mw5/content/logos/mw_logo_social.png",
    ),
    Outlet(
        "PR Newswire",
        "prnewswire.com",
        9,
        "https://www.prnewswire.com/news-releases/{slug}-{id9}.html",
        img="https://mma.prnewswire.com/media/{id7}/{Slug40}.jpg",
    ),
    Outlet(
        "Benzinga.com",
        "benzinga.com",
        5,
        "https://www.benzinga.com/pressreleases/{yy}/{mm}/{bid}/{slug120}",
        amp="suffix",
    ),
    Outlet(
        "Business Insider",
        "businessinsider.com",
        4,
        "https://markets.businessinsider.com/news/stocks/{slug}-{id10}",
        amp="query",
        img="https://i.insider.com/{hex24}?width=1200&format=jpeg",
    ),
    Outlet(
        "WFMZ-TV",
        "wfmz.com",
        3,
        "https://www.wfmz.com/news/pr_newswire/pr_newswire_{section}/{slug}/article_{uuid}.html",
    ),
    Outlet(
        "openpr.com",
        "openpr.com",
        3,
        "https://www.openpr.com/news/{id7}/{slug50}",
        amp="prefix",
        img="https://cdn.openpr.com/T/{m}/{hex10}_g.jpg",
    ),
    Outlet(
        "Associated Press",
        "apnews.com",
        3,
        "https://apnews.com/press-release/{wire}/{slug60}-{hex32}",
    ),
    Outlet(
        "Business Wire",
        "businesswire.com",
        3,
        "https://www.businesswire.com/news/home/{yyyymmdd}{id6}/en/{Slug}",
    ),
    Outlet(
        "LinkedIn",
        "linkedin.com",
        2,
        "https://www.linkedin.com/pulse/{slug50}-{author}",
        img="https://media-exp1.licdn.com/dms/image/{hex16}/article-cover_image/0",
    ),
    Outlet(
        "Forbes",
        "forbes.com",
        2,
        "https://www.forbes.com/sites/{author}/{yyyy}/{mm}/{dd}/{slug}/",
        amp="suffix",
        img="https://thumbor.forbes.com/thumbor/fit-in/1200x0/{hex24}.jpg",
    ),
    Outlet(
        "TechRepublic",
        "techrepublic.com",
        2,
        "https://www.techrepublic.com/article/{slug}/",
        amp="prefix",
    ),
    Outlet(
        "The Next Web",
        "thenextweb.com",
        2,
        "https://thenextweb.com/{section}/{yyyy}/{mm}/{dd}/{slug}/",
    ),
    Outlet(
        "VentureBeat",
        "venturebeat.com",
        2,
        "https://venturebeat.com/{yyyy}/{mm}/{dd}/{slug}/",
        amp="suffix",
    ),
    Outlet(
        "Analytics India Magazine",
        "analyticsindiamag.com",
        2,
        "https://analyticsindiamag.com/{slug}/",
    ),
    Outlet(
        "Analytics Insight", "analyticsinsight.net", 2, "https://www.analyticsinsight.net/{slug}/"
    ),
    Outlet(
        "EurekAlert!",
        "eurekalert.org",
        1,
        "https://www.eurekalert.org/pub_releases/{yyyy}-{mm}/{abbr}-{abbr}{mmddyy}.php",
    ),
    Outlet(
        "Medical Xpress",
        "medicalxpress.com",
        1,
        "https://medicalxpress.com/news/{yyyy}-{mm}-{slug40}.html",
        amp="prefix",
    ),
    Outlet(
        "Engadget", "engadget.com", 1, "https://www.engadget.com/{slug60}-{id9}.html", amp="prefix"
    ),
    Outlet(
        "The Verge",
        "theverge.com",
        1,
        "https://www.theverge.com/{yyyy}/{m}/{d}/{id8}/{slug}",
        amp="prefix",
    ),
    Outlet("ZDNet", "zdnet.com", 1, "https://www.zdnet.com/article/{slug}/", amp="prefix"),
    Outlet(
        "CNBC", "cnbc.com", 1, "https://www.cnbc.com/{yyyy}/{mm}/{dd}/{slug60}.html", amp="prefix"
    ),
    Outlet(
        "Gulf News",
        "gulfnews.com",
        1,
        "https://gulfnews.com/business/{section}/{slug}-1.{id13}",
        amp="prefix",
    ),
    Outlet(
        "Indiatimes",
        "indiatimes.com",
        1,
        "https://economictimes.indiatimes.com/tech/technology/{slug}/articleshow/{id8}.cms",
        amp="prefix",
    ),
    Outlet(
        "Your Story", "yourstory.com", 1, "https://yourstory.com/{yyyy}/{mm}/{slug40}", amp="prefix"
    ),
    Outlet("insideHPC", "insidehpc.com", 1, "https://insidehpc.com/{yyyy}/{mm}/{slug}/"),
    Outlet(
        "Network World",
        "networkworld.com",
        1,
        "https://www.networkworld.com/article/{id7}/{slug}.html",
    ),
    Outlet("Datanami", "datanami.com", 1, "https://www.datanami.com/{yyyy}/{mm}/{dd}/{slug}/"),
    Outlet(
        "Help Net Security",
        "helpnetsecurity.com",
        1,
        "https://www.helpnetsecurity.com/{yyyy}/{mm}/{dd}/{slug40}/",
    ),
    Outlet(
        "The Guardian",
        "theguardian.com",
        1,
        "https://www.theguardian.com/technology/{yyyy}/{mon}/{dd}/{slug}",
        amp="prefix",
    ),
    Outlet("ARN", "arnnet.com.au", 1, "https://www.arnnet.com.au/mediareleases/{id5}/{slug40}/"),
    Outlet(
        "Morningstar, Inc.",
        "morningstar.com",
        1,
        "https://www.morningstar.com/news/business-wire/{yyyymmdd}{id6}/{slug}",
    ),
    Outlet("Gizmodo", "gizmodo.com", 1, "https://gizmodo.com/{slug60}-{id10}", amp="suffix"),
    Outlet(
        "The Motley Fool",
        "fool.com",
        1,
        "https://www.fool.com/investing/{yyyy}/{mm}/{dd}/{slug40}.aspx",
        amp="prefix",
    ),
    Outlet(
        "dbta.com",
        "dbta.com",
        1,
        "https://www.dbta.com/BigDataQuarterly/Articles/{Slug}-{id6}.aspx",
    ),
    Outlet(
        "Middle East North Africa Financial Network",
        "menafn.com",
        1,
        "https://menafn.com/{id10}/{Slug}",
    ),
    Outlet(
        "Electronic Engineering Journal",
        "eejournal.com",
        1,
        "https://www.eejournal.com/article/{slug}/",
    ),
    Outlet(
        "Crowdfund Insider",
        "crowdfundinsider.com",
        1,
        "https://www.crowdfundinsider.com/{yyyy}/{mm}/{id6}-{slug}/",
    ),
    Outlet(
        "Healthcare IT News",
        "healthcareitnews.com",
        1,
        "https://www.healthcareitnews.com/news/{slug}",
    ),
    Outlet("The Robot Report", "therobotreport.com", 1, "https://www.therobotreport.com/{slug}/"),
    Outlet("Finextra", "finextra.com", 1, "https://www.finextra.com/newsarticle/{id5}/{slug}"),
    Outlet(
        "TechCrunch",
        "techcrunch.com",
        1,
        "https://techcrunch.com/{yyyy}/{mm}/{dd}/{slug}/",
        amp="suffix",
    ),
    Outlet("Wired", "wired.com", 1, "https://www.wired.com/story/{slug}/"),
    Outlet(
        "Vision Systems Design",
        "vision-systems.com",
        1,
        "https://www.vision-systems.com/non-factory/article/{id8}/{slug}",
    ),
    Outlet(
        "Retail TouchPoints",
        "retailtouchpoints.com",
        1,
        "https://www.retailtouchpoints.com/topics/{section}/{slug}",
    ),
)
_SECTIONS = ("business", "health", "technology", "banking", "future-of-finance", "markets")
_WIRE_SLUGS = ("accesswire", "business-wire", "globe-newswire", "pr-newswire")
_SMALL_WORDS = frozenset(
    (
        "a",
        "an",
        "and",
        "as",
        "at",
        "by",
        "for",
        "from",
        "in",
        "of",
        "on",
        "or",
        "the",
        "to",
        "vs",
        "via",
        "with",
    )
)

# ---------------------------------------------------------------------------
# Small helpers


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Cumulative weights spare random.choices() re-adding them on every draw.
_OUTLET_CUM = list(accumulate(o.weight for o in OUTLETS))
_TOPIC_NAMES = [t for t, _ in TOPIC_WEIGHTS]
_TOPIC_CUM = list(accumulate(w for _, w in TOPIC_WEIGHTS))


def title_case(text: str) -> str:
    """Headline case that leaves acronyms and brand casing (AutoML, iPhone) alone."""
    words = text.split(" ")
    out = []
    for i, w in enumerate(words):
        if w and w[0].islower() and not any(c.isupper() for c in w[1:]):
            if i and w in _SMALL_WORDS:
                out.append(w)
            else:
                out.append("-".join(p[:1].upper() + p[1:] for p in w.split("-")))
        else:
            out.append(w)
    return " ".join(out)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _poss(name: str) -> str:
    return name + ("'" if name.endswith("s") else "'s")


def lower_phrase(text: str) -> str:
    """'Service Robotics' → 'service robotics'; acronyms and brands (MLaaS, AI) kept."""
    return " ".join(w.lower() if w[:1].isupper() and w[1:].islower() else w for w in text.split())


def _a(word: str) -> str:
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word


_SLUG_DROP = re.compile(r"['’‘\".,$%!?:;()|&“”#@*+=/\\]")
_SLUG_NON = re.compile(r"[^a-z0-9]+")


def slugify(text: str, limit: int = 100) -> str:
    """URL/file slug the way news CMSes make them: ASCII, punctuation dropped."""
    t = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    t = _SLUG_NON.sub("-", _SLUG_DROP.sub("", t.lower())).strip("-")
    if len(t) > limit:
        t = t[:limit].rsplit("-", 1)[0]
    return t or "story"


def _yaml_str(value: str) -> str:
    # JSON strings are valid YAML double-quoted scalars, and json.dumps is
    # ~50x faster than yaml.dump, which matters at 100k records.
    return json.dumps(value, ensure_ascii=False)


_PLAIN_OK = re.compile(r"^[A-Za-z][A-Za-z0-9 .,&!'-]*$")
_YAML_WORDS = frozenset(("y", "n", "yes", "no", "true", "false", "on", "off", "null", "~"))


def _yaml_plain(value: str) -> str:
    """Plain scalar where real files use one (provider names), quoted when unsafe."""
    if _PLAIN_OK.match(value) and value.lower() not in _YAML_WORDS and not value.endswith(" "):
        return value
    return _yaml_str(value)


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


_DATE_KEYS = {
    "yyyy": lambda w: f"{w.year}",
    "yy": lambda w: f"{w.year % 100:02d}",
    "mm": lambda w: f"{w.month:02d}",
    "dd": lambda w: f"{w.day:02d}",
    "m": lambda w: str(w.month),
    "d": lambda w: str(w.day),
    "mon": lambda w: MON3[w.month - 1],
    "date": lambda w: f"{w.year}-{w.month:02d}-{w.day:02d}",
    "yyyymmdd": lambda w: f"{w.year}{w.month:02d}{w.day:02d}",
    "mmddyy": lambda w: f"{w.month:02d}{w.day:02d}{w.year % 100:02d}",
}


class _UrlParts(dict):
    """Lazy fields for an outlet's URL pattern: only what the pattern names is built."""

    def __init__(self, rng: random.Random, title: str, when: datetime, author: str) -> None:
        super().__init__()
        self.rng, self.title, self.when, self.author = rng, title, when, author

    def __missing__(self, key: str) -> str:
        r, w = self.rng, self.when
        if key.startswith("slug"):
            v = slugify(self.title, int(key[4:] or 100))
        elif key.startswith("Slug"):
            v = "-".join(x.capitalize() for x in slugify(self.title, int(key[4:] or 90)).split("-"))
        elif key.startswith("id"):
            n = int(key[2:])
            v = str(r.randrange(10 ** (n - 1), 10**n))
        elif key.startswith("hex"):
            v = f"{r.getrandbits(4 * int(key[3:])):0{int(key[3:])}x}"
        elif key in _DATE_KEYS:
            v = _DATE_KEYS[key](w)
        elif key == "author":
            v = self.author
        elif key == "section":
            v = r.choice(_SECTIONS)
        elif key == "wire":
            v = r.choice(_WIRE_SLUGS)
        elif key == "abbr":
            v = "".join(r.choices("abcdefghijklmnopqrstu", k=3))
        elif key == "bid":
            v = f"{r.choice('gnp')}{r.randrange(10**7, 10**8)}"
        elif key == "uuid":
            v = "-".join(f"{r.getrandbits(4 * k):0{k}x}" for k in (8, 4, 4, 4, 12))
        else:
            raise KeyError(key)
        self[key] = v
        return v


def _amp_urls(url: str, style: str) -> tuple[str | None, str | None]:
    if not style:
        return None, None
    host, _, path = url.partition("://")[2].partition("/")
    if style == "suffix":
        amp = url + ("amp/" if url.endswith("/") else "/amp")
    elif style == "query":
        amp = url + ("&amp" if "?" in url else "?amp")
    else:
        amp = f"https://{host}/amp/{path}"
    cdn = f"https://{host.replace('-', '--').replace('.', '-')}.cdn.ampproject.org/c/s/{amp[8:]}"
    return amp, cdn


# ---------------------------------------------------------------------------
# Events: one event, several headlines (one per outlet that covers it).


@dataclass(slots=True)
class _Ctx:
    """Slots a family fills its templates from; near-neighbours pre-set some."""

    topic: str
    tech: str
    org: str
    org2: str
    person: str
    region: str
    industry: str
    when: datetime
    dateline: str
    product: str
    firm: str
    startup: str  # always a small company, for stories big firms do not star in


@dataclass(slots=True)
class _Event:
    family: str
    titles: list[str]
    excerpts: list[str]
    filler: tuple[str, ...] = ()  # extra sentences that fit this kind of story


def _money(rng: random.Random) -> str:
    return f"{rng.choice((2, 3, 4, 5, 6, 8, 9, 12, 15, 18, 20, 25, 30, 40, 45, 60, 75, 110, 140))}"


def _pct(rng: random.Random) -> str:
    return f"{rng.uniform(4, 45):.1f}"


def _fam_market(r: random.Random, c: _Ctx) -> _Event:
    y = c.when.year
    y2 = y + r.choice((4, 5, 6, 7, 8))
    subj = title_case(c.tech)
    if r.random() < 0.3:
        subj = f"{subj} in {title_case(c.industry)}"
    pct, amt = _pct(r), f"{r.uniform(1, 120):.1f}"
    unit = r.choice(("Billion", "Billion", "Million"))
    y0 = y - r.choice((0, 1, 1, 2))
    titles = [
        f"{subj} Market Size Worth ${amt} {unit} by {y2} | CAGR: {pct}%: {c.firm}",
        f"Global {subj} Market {y} Analysis by Key Players, Type, Application, End-User and "
        f"Forecast to {y2}",
        f"{subj} Market - Growth, Trends, and Forecast ({y}-{y2})",
        f"How Will {subj} Market Deal with the {r.choice(CRISES)}?",
        f"{title_case(c.region.removeprefix('the '))} {subj} Market is projected to grow at a CAGR "
        f"of {pct}% during {y}-{y2}",
        f"{subj} Market {y0}-{y2} | Latest Trending Report with Analysis and Future Growth "
        f"Opportunities",
        f"{subj} Market to Garner Overwhelming Hike In Revenues by {y2}",
        f"{subj} Market : Business overview, Upcoming Trends and Top Company Analysis "
        f"Forecast By {y2}",
        f"{subj} Market Growing at a CAGR {pct}% | Key Player {c.org}, {c.org2}, "
        f"{r.choice(BIG_COMPANIES)}",
        f"{subj} Market Future Demands, Companies, Trends, Share and Size Forecast {y}-{y2}",
        f"{subj} Market Analysis with Impact of {r.choice(IMPACTS)}, Top Companies, "
        f"Trends, Size, Growth, Share, Demand, Future Opportunity Outlook {y2}",
        f"{subj} Market {y} Industry Analysis, Segment & Forecast Up to {y2}",
        f"{subj} Market - Size, Global Share, Investment Opportunities, Future Trends, "
        f"Business Demand and Growth Forecast {y2}",
        f"Global {subj} Market {y} Outlook, Key Players, Segmentation, Industry Size and Share, "
        f"Comprehensive Analysis to {y2}",
    ]
    r.shuffle(titles)
    low = c.tech
    excerpts = [
        f"{c.dateline} ({r.choice(WIRES)}) -- The global {low} market size is expected to "
        f"reach USD {amt} {unit.lower()} by {y2}, according to a new report by {c.firm}. "
        f"The market is anticipated to grow at a CAGR of {pct}% over the forecast period.",
        f"{c.firm} has published a detailed report on the {low} market, categorised by "
        f"market size, share, key players, applications and region. The report also covers "
        f"the impact of recent disruptions on demand in {c.industry}.",
        f"The MarketWatch News Department was not involved in the creation of the content. "
        f"The global {low} market was valued at USD {r.uniform(0.5, 20):.2f} billion in {y0} "
        f"and is expected to reach USD {amt} {unit.lower()} by {y2}, at a CAGR of {pct}%.",
        f"The global {low} market is expected to rise with an impressive CAGR and generate "
        f"the highest revenue by {y2}. Growth is driven by adoption in {c.industry} and "
        f"{r.choice(INDUSTRIES)}.",
    ]
    return _Event("market", titles[:4], excerpts, MARKET_FILLER)


def _fam_launch(r: random.Random, c: _Ctx) -> _Event:
    users, goal = r.choice(USERS), r.choice(GOALS)
    adj = r.choice(("web-based", "cloud-native", "low-code", "real-time", "AI-powered", "new"))
    titles = [
        f"{c.org} Launches {c.product}, {title_case(_a(adj))} {title_case(c.tech)} Platform for "
        f"{title_case(c.industry)}",
        f"{c.org} unveils {c.product} to bring {c.tech} to {c.industry}",
        f"{_poss(c.org)} new {c.product} lets {users} {goal}",
        f"New {title_case(adj.replace('new', 'Web-Based'))} {title_case(c.tech)} Tool from "
        f"{c.org} Helps {title_case(users)} {title_case(goal)}",
        f"{c.org} Introduces {c.product} Including {title_case(c.tech)} Tools for "
        f"{title_case(users)}",
    ]
    r.shuffle(titles)
    excerpts = [
        f"{c.dateline} /{r.choice(WIRES)}/ -- {c.org}, a leading provider of {c.tech} "
        f"solutions, today announced {c.product}, {_a(adj)} platform that helps {users} "
        f"{goal}.",
        f"{c.org} has released {c.product}, which it says lets {users} in {c.industry} "
        f"{goal} without hiring specialist staff.",
        f"The launch puts {c.org} up against larger rivals in {c.tech}, a field where "
        f"{users} have been slow to adopt new tools.",
    ]
    return _Event("launch", titles[:4], excerpts)


def _fam_funding(r: random.Random, c: _Ctx) -> _Event:
    amt, rnd = _money(r), r.choice(("Seed", "Series A", "Series B", "Series C", "Series D"))
    goal = r.choice(GOALS)
    if c.org in _BIG_SET:
        # Big companies do not raise rounds; they lead them.
        titles = [
            f"{c.startup} Raises ${amt} Million {rnd} Led by {c.org} to Scale {title_case(c.tech)}",
            f"{c.org} backs {c.tech} startup {c.startup} in ${amt}M round",
            f"{c.org} invests in {c.startup} as {c.tech} deals heat up",
        ]
        r.shuffle(titles)
        excerpts = [
            f"{c.dateline} /{r.choice(WIRES)}/ -- {c.startup} today announced ${amt} million "
            f"in {rnd} funding led by {c.org}, to expand its {c.tech} platform in {c.region}.",
            f"{c.org} is the latest big company to invest in {c.tech}. {c.startup} will use "
            f"the money to help {c.industry} customers {goal}.",
        ]
        return _Event("funding", titles, excerpts)
    titles = [
        f"{c.org} Raises ${amt} Million {rnd} to Scale {title_case(c.tech)} for "
        f"{title_case(c.industry)}",
        f"{c.org} raises ${amt}M to help {c.industry} firms {goal}",
        f"{c.org} lands ${amt} million as investors bet on {c.tech}",
        f"{_cap(c.tech)} startup {c.org} closes ${amt}M {rnd} round",
    ]
    r.shuffle(titles)
    excerpts = [
        f"{c.dateline} /{r.choice(WIRES)}/ -- {c.org} today announced it has raised ${amt} "
        f"million in {rnd} funding to expand its {c.tech} platform in {c.region}.",
        f"The round was led by {c.org2} Ventures. {c.org} plans to use the money to hire "
        f"engineers and help {c.industry} customers {goal}.",
    ]
    return _Event("funding", titles[:3], excerpts)


def _fam_partner(r: random.Random, c: _Ctx) -> _Event:
    goal = r.choice(GOALS)
    titles = [
        f"{c.org} & {c.org2} Join Forces to {title_case(goal)}",
        f"{c.org} and {c.org2} partner on {c.tech} for {c.industry}",
        f"{c.org} Signs an Agreement with {c.org2} to Develop {title_case(c.industry)} Solutions",
        f"{c.org2} taps {c.org} for {c.tech} push in {c.region}",
        f"{c.org} expands {c.tech} partnership with {c.org2} in {c.region}",
    ]
    r.shuffle(titles)
    excerpts = [
        f"{c.dateline} /{r.choice(WIRES)}/ -- {c.org} and {c.org2} today announced a strategic "
        f"partnership to bring {c.tech} to {c.industry} customers in {c.region}.",
        f"Under the agreement, {c.org2} will use {_poss(c.org)} {c.tech} technology to {goal}. "
        f"Financial terms were not disclosed.",
    ]
    return _Event("partnership", titles[:4], excerpts)


def _fam_expand(r: random.Random, c: _Ctx) -> _Event:
    city = r.choice(CITIES).split(",")[0].title()
    titles = [
        f"{c.org} Launches {title_case(c.industry)} Division and {c.region.removeprefix('the ')} "
        f"Operations",
        f"{c.org} opens {city} office to grow {c.tech} business",
        f"{c.org} expands {c.tech} push into {c.region}",
        f"{c.org} bets on {c.region} with new {c.tech} hub",
    ]
    r.shuffle(titles)
    excerpts = [
        f"{c.org} said the new office in {city} will serve customers in {c.industry} across "
        f"{c.region} and employ about {r.randrange(20, 400)} people by {c.when.year + 1}.",
        f"{c.dateline} /{r.choice(WIRES)}/ -- {c.org}, which sells {c.tech} software, "
        f"today announced the expansion of its operations to {c.region}.",
    ]
    return _Event("expansion", titles[:3], excerpts)


def _fam_regulate(r: random.Random, c: _Ctx) -> _Event:
    reg, concern = r.choice(REGULATORS), r.choice(CONCERNS)
    titles = [
        f"{c.org} {c.tech} tool flagged by regulators over {concern}",
        f"{_cap(reg)} opens inquiry into {_poss(c.org)} use of {c.tech}",
        f"Lawmakers in {c.region} question {c.org} over {c.tech} {concern}",
        f"{c.org} faces fine over {c.tech} as {reg} cite {concern}",
        f"Watchdog warns {c.org} about {c.tech} in {c.industry}",
    ]
    r.shuffle(titles)
    excerpts = [
        f"{_cap(reg)} said it was examining whether {_poss(c.org)} {c.tech} system complied with "
        f"the law, after complaints from {c.industry} customers and civil-liberties groups.",
        f"The inquiry adds to pressure on companies selling {c.tech} amid {concern}. "
        f"{c.org} said it would cooperate fully.",
    ]
    return _Event("regulation", titles[:3], excerpts)


def _fam_exit(r: random.Random, c: _Ctx) -> _Event:
    concern = r.choice(CONCERNS)
    who = r.choice(("police", "retailers", "landlords", "schools", "border agencies"))
    titles = [
        f"{c.org} pauses sales of {c.tech} to {who} amid {concern}",
        f"{c.org} winds down {c.tech} unit after {r.choice(('losses', 'a strategy review'))}",
        f"{c.org} pulls back from {c.tech} in {c.region}",
        f"{c.org} shelves {c.tech} project over {concern}",
    ]
    r.shuffle(titles)
    excerpts = [
        f"{c.org} said it would stop offering {c.tech} products to {who} for at least a year, "
        f"citing {concern}.",
        f"The move leaves a handful of smaller vendors selling {c.tech} to {who} in {c.region}.",
    ]
    return _Event("exit", titles[:3], excerpts)


def _fam_earnings(r: random.Random, c: _Ctx) -> _Event:
    q = r.choice(("First", "Second", "Third", "Fourth"))
    y = c.when.year
    month = MONTHS[(c.when.month + r.randrange(0, 2)) % 12]
    titles = [
        f"{c.org} Sets {q} Quarter {y} Financial Results and Business Update Call for {month} "
        f"{r.randrange(1, 29)}",
        f"{c.org} beats estimates as {c.tech} demand grows",
        f"{c.org} shares slide after {c.tech} revenue misses forecasts",
        f"Have $1,000 to Invest? {c.org} Is a {title_case(c.tech)} Stock to Watch",
    ]
    r.shuffle(titles)
    excerpts = [
        f"A live webcast will be available on the {c.org} website, and a replay will be "
        f"available for two weeks. {c.org} develops {c.tech} for {c.industry}.",
        f"{c.org} reported revenue of ${r.uniform(0.1, 30):.1f} billion for the quarter, "
        f"helped by demand for {c.tech} from {c.industry} customers.",
    ]
    return _Event("earnings", titles[:3], excerpts)


def _fam_award(r: random.Random, c: _Ctx) -> _Event:
    award = r.choice(AWARDS)
    titles = [
        f"{c.org} Named Winner at the {c.when.year} {award} for Best {title_case(c.tech)} Solution",
        f"{c.org} wins {award} for {c.tech} in {c.industry}",
        f"{c.org} recognised for {c.tech} work at {award}",
    ]
    r.shuffle(titles)
    excerpts = [
        f"{c.org}, a {c.tech} company, announced that it has won the {c.when.year} {award} "
        f"in the {c.industry} category for its work with {c.org2}.",
    ]
    return _Event("award", titles[:2], excerpts)


def _fam_people(r: random.Random, c: _Ctx) -> _Event:
    role = r.choice(ROLES)
    titles = [
        f"{c.org} appoints {c.person} as chief {role} officer",
        f"{c.person} to lead {_poss(c.org)} {c.tech} efforts",
        f"{c.org} hires {c.person} from {c.org2} to run {c.tech}",
        f"{c.org} Expands Sales & Marketing Team to Target {title_case(c.industry)} "
        f"{title_case(c.tech)} Market",
    ]
    r.shuffle(titles)
    excerpts = [
        f"{c.person}, who previously worked at {c.org2}, will oversee {_poss(c.org)} {c.tech} "
        f"products and report to the chief executive.",
        f"The appointment comes as {c.org} tries to win more {c.industry} customers in {c.region}.",
    ]
    return _Event("people", titles[:3], excerpts)


def _fam_research(r: random.Random, c: _Ctx) -> _Event:
    uni = r.choice(
        (
            "University of Toronto",
            "ETH Zurich",
            "University of Maryland",
            "IIT Madras",
            "Stanford University",
            "Imperial College London",
            "University of Tokyo",
            "KAIST",
            "TU Munich",
            "University of Cape Town",
            "MIT",
            "Carnegie Mellon University",
        )
    )
    finding = r.choice(
        (
            "can outperform specialists",
            "can miss rare cases",
            "can cut errors by a third",
            "can struggle with new data",
            "can speed up reviews",
            "can hide bias",
        )
    )
    titles = [
        f"{uni} funds joint {c.tech} research with {c.org}",
        f"Study: {c.tech} {finding} in {c.industry}",
        f"{c.org} researchers show {c.tech} {finding}",
        f"{uni} and {c.org} open {c.tech} lab",
    ]
    r.shuffle(titles)
    excerpts = [
        f"Researchers at {uni} tested {c.tech} on data from {c.industry} and found the "
        f"system {finding}, according to a paper published this week.",
        f"The new programme will fund collaborative {c.tech} research with {c.org} to solve "
        f"problems in {c.industry}.",
    ]
    return _Event("research", titles[:3], excerpts)


def _fam_opinion(r: random.Random, c: _Ctx) -> _Event:
    n = r.choice((3, 4, 5, 6, 7, 10))
    titles = [
        f"How {c.industry} can use {c.tech} to {r.choice(GOALS)}",
        f"Time to rethink {c.tech} in {c.industry}",
        f"{n} lessons from {_poss(c.org)} {c.tech} push",
        f"Why {c.tech} needs better governance",
        f"View: {c.region.removeprefix('the ')} should invest in {c.tech} skills",
        f"The {c.tech} revolution: what it means for {c.industry}",
        f"{_cap(c.tech)} is changing everything in {c.industry}",
    ]
    r.shuffle(titles)
    excerpts = [
        f"{c.person}, who advises {c.industry} companies, writes about what {c.tech} can and "
        f"cannot do, and what leaders should ask before buying it.",
        f"Every week seems to bring another report about {c.tech} beating people at some "
        f"task. The reality in {c.industry} is messier.",
        f"For {c.tech} to take root, sustainable practices must be built into the fabric of "
        f"an organisation's technology plans.",
    ]
    return _Event("opinion", titles[:3], excerpts)


def _fam_conference(r: random.Random, c: _Ctx) -> _Event:
    conf = r.choice(CONFERENCES)
    titles = [
        f"{c.org} to Present at {conf}",
        f"{c.org} Goes LIVE With its {title_case(c.tech)} Summit",
        f"{c.org} to showcase {c.tech} at {conf}",
    ]
    r.shuffle(titles)
    excerpts = [
        f"{c.dateline} / {r.choice(WIRES)} / -- {c.org}, a provider of {c.tech} technology, "
        f"announced that it will present at the {conf}. The company also announced the "
        f"grant of options to employees.",
        f"The online summit will cover {c.tech} tracks for {c.industry}, with speakers from "
        f"{c.org2} and startups from {c.region}.",
    ]
    return _Event("conference", titles[:2], excerpts)


def _fam_incident(r: random.Random, c: _Ctx) -> _Event:
    what = r.choice(("outage", "data leak", "security flaw", "software bug"))
    titles = [
        f"{c.org} {c.tech} {what} disrupts {c.industry} customers",
        f"{_cap(what)} in {_poss(c.org)} {c.tech} system exposed customer data",
        f"{c.org} apologises after {c.tech} {what}",
    ]
    r.shuffle(titles)
    excerpts = [
        f"Customers in {c.industry} reported problems for several hours after {_a(what)} hit "
        f"{_poss(c.org)} {c.tech} service. The company said it had fixed the issue.",
    ]
    return _Event("incident", titles[:2], excerpts)


_FAMILIES = {
    "market": (_fam_market, 48),
    "launch": (_fam_launch, 12),
    "funding": (_fam_funding, 6),
    "partnership": (_fam_partner, 9),
    "expansion": (_fam_expand, 4),
    "regulation": (_fam_regulate, 4),
    "exit": (_fam_exit, 2),
    "earnings": (_fam_earnings, 5),
    "award": (_fam_award, 3),
    "people": (_fam_people, 3),
    "research": (_fam_research, 5),
    "opinion": (_fam_opinion, 10),
    "conference": (_fam_conference, 2),
    "incident": (_fam_incident, 2),
}
_FAMILY_NAMES = list(_FAMILIES)
_FAMILY_CUM = list(accumulate(w for _, w in _FAMILIES.values()))

# What a real title reports, so a distractor can report something else.
_EVENT_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(p, re.I))
    for name, p in (
        ("exit", r"\b(stops|exits?|quits|ditch|pauses?|winds? down|suspend)"),
        ("partnership", r"\b(partner|join forces|team up|agreement|collaborat|signs)"),
        ("funding", r"\b(raises?|funding|series [a-d]|investment deals|financing)\b"),
        ("award", r"\b(winner|award)"),
        ("earnings", r"\b(financial results|quarter|earnings|stocks?|invest)\b"),
        ("conference", r"\b(present at|summit|conference)\b"),
        ("people", r"\b(expands .*team|appoints|hires)\b"),
        ("market", r"\b(market|forecast|cagr)\b"),
        ("launch", r"\b(launch|introduc|releases?|unveil|goes live|new .*tool)"),
        ("research", r"\b(funds|research|study)\b"),
        (
            "opinion",
            r"^(how|why|time to|view:|metaphors|the ai revolution)|\bfoundation\b|"
            r"\bmaster\b|\bcan take\b|\bcareful\b|\bputs the focus\b",
        ),
    )
)


def classify_event(title: str) -> str:
    """The family of event a title reports ("market", "launch", …; "news" if unknown)."""
    for name, pat in _EVENT_PATTERNS:
        if pat.search(title):
            return name
    return "news"


# ---------------------------------------------------------------------------
# Anchors: what a real record is about, for its near-neighbours.

# Capitalised words that are headline furniture or sentence starts, not names.
_GENERIC_CAPS = _words(
    """
    a an the and or of for in on to with by at from as is are be how why what will can new
    global market markets report reports size share growth trends trend forecast forecasts
    analysis industry key players player type application applications end-user region
    regions outlook segment segmentation opportunities opportunity demand business overview
    upcoming top company companies latest trending future revenue revenues hike overwhelming
    comprehensive study research published exclusive scenario artificial intelligence ai
    learning ml deep natural language processing nlp computer vision speech voice
    recognition system systems software service services covid-19 covid coronavirus
    pandemic crisis impact beyond volume industrial data january february march april may
    june july august september october november december jan feb mar apr jun jul aug sep
    sept oct nov dec monday tuesday wednesday thursday friday prnewswire globe newswire prweb
    accesswire expresswire wire comtex cdn xherald inc corp corporation ltd llc group
    solutions technologies technology view here this these that it its our we you your they
    their his her he she but there one according also instead while built back benefits
    helps imagine time create status deal fuel garner present options results update media
    innovations updates segments power management operations others organization offering
    process rankings recent developments expected grow demands economies scale surge
    properties minister finance ceo department news world summit conference usd us$ cagr xx
    bn mn billion million worth rtl hls sql gpu gpus iot smes mlaas tmr mrfr sca idc eu mrs
    k-12 x-rays q1 q2 q3 q4 fy hr it ip api apis saas series nasdaq nyse tsxv fse cse rsu grants
    announces award agreement strategic collaboration strategy live enterprises capital
    startups electronic big large enterprise cybersecurity internet drive digital mobility
    automotive consulting
    pharmaceutical fintech security call center infrastructure healthcare robotics
    conversational u.s u.s. acumen europe european australia india asia america american
    africa uae japan china germany uk britain canada los angeles new york portland ore dublin
    armonk tokyo santa clara calif ann arbor mich toronto ontario london paris berlin
    """
)
# Generic multiword terms are blanked out before looking for names, so that
# "Splice Machine" survives while "Machine Learning" yields nothing.
_GENERIC_PHRASES = re.compile(
    r"\b(?:machine learning|artificial intelligence|natural language processing|"
    r"computer vision|deep learning|internet of things|speech recognition|"
    r"voice recognition|image recognition|facial recognition)\b",
    re.I,
)
_STRIP_END = re.compile(r"(?:(?:'s|’s|[.,:;'’/-])+|(?<=[a-z])Inc\.?)$")
# Tickers such as "(TSXV:ADCO)" or "( CLWD )" are not names to build stories on.
_TICKER = re.compile(r"\((?:[^()]{0,12}[:–-]\s*)?\s*[A-Z]{2,6}\s*\)")
_TOKEN = re.compile(r"[\w$][\w.&/’'$-]*|&")
_NAME_ABBREV = frozenset(("Inc.", "Corp.", "Co.", "Ltd.", "U.S.", "Dr.", "St.", "Jr."))
_KNOWN_NAMES = frozenset(BIG_COMPANIES) | frozenset(RESEARCH_FIRMS)
_PERSON_TITLES = _words("minister ceo president dr. professor founder chairman cto director")


def _namey(tok: str) -> bool:
    """A token that is a name whatever the headline style: IBM, SensiML, Auditoria.AI."""
    if tok.lower() in _GENERIC_CAPS:
        return False
    if tok in _KNOWN_NAMES:
        return True
    return bool(
        re.fullmatch(r"[A-Z][A-Z0-9]{1,7}", tok)
        or re.search(r"[a-z][A-Z]", tok)
        or re.fullmatch(r"[A-Z][\w]*[./][A-Z][\w.]*", tok)
    )


def _cap_runs(text: str) -> list[tuple[list[str], bool]]:
    """Runs of capitalised tokens ('of' allowed inside), each with 'starts a sentence'."""
    runs: list[tuple[list[str], bool]] = []
    cur: list[str] = []
    cur_initial = False
    prev_end = 0
    for m in _TOKEN.finditer(text):
        raw = m.group(0)
        gap = text[prev_end : m.start()]
        prev_end = m.end()
        ends_sentence = raw.endswith(".") and raw not in _NAME_ABBREV and len(raw) > 2
        tok = _STRIP_END.sub("", raw)
        boundary = any(ch in gap for ch in '.!?:;,|—–"“”()') or gap.strip() == "-"
        if cur and boundary:
            runs.append((cur, cur_initial))
            cur = []
        is_cap = bool(tok) and (tok[0].isupper() or _namey(tok))
        if is_cap or (cur and tok == "of"):
            if not cur:
                before = text[: m.start()].rstrip()
                cur_initial = not before or before[-1] in '.!?:—-|"“(' or before.endswith("--")
            cur.append(tok)
        elif cur:
            runs.append((cur, cur_initial))
            cur = []
        if ends_sentence and cur:
            runs.append((cur, cur_initial))
            cur = []
    if cur:
        runs.append((cur, cur_initial))
    return runs


# Words that end company names ("Vektor Robotics", "Lumora Health"): kept at
# the end of a name even though they are generic on their own.
_NAME_TAILS = _words(
    """
    robotics health systems technologies technology labs solutions software analytics machine
    scientific cloud group pharmaceuticals media capital ventures networks park global
    innovations services mobility imaging
    """
)
# Places and peoples: capitalised, but not what a story is about.
_PLACES = _words(
    """
    pittsburgh ohio zürich zurich switzerland tampere frankfurt stockholm münster oslo nairobi
    kenya netherlands dutch france french germany german spain italy italian swiss norway
    finland sweden texas california florida seattle boston chicago austin washington congress
    fda ftc sec nhs ema cnil ico series
    """
)


# "Scottish", "Nigerian", "African": peoples, not companies.
_PEOPLE_ENDINGS = ("ish", "ian", "ese", "can", "ean", "man")


def _trim(words: list[str]) -> list[str]:
    words = list(words)
    while words and (
        words[0].lower() in _GENERIC_CAPS
        or words[0] == "of"
        or words[0].lower() in _PERSON_TITLES
        or words[0].endswith("-based")
    ):
        words.pop(0)
    while words and (words[-1].lower() in _GENERIC_CAPS or words[-1] == "of"):
        if (
            words[-1].lower() in _NAME_TAILS
            and len(words) > 1
            and words[-2].lower() not in _GENERIC_CAPS
        ):
            break
        words.pop()
    return words


def _entities(title: str, excerpt: str) -> list[str]:
    """Likely names (companies, products, people) in a title and its excerpt.

    Title-case headlines capitalise everything, so a capitalised title word
    counts only if it is name-shaped (IBM, SensiML) or the excerpt repeats it
    capitalised; sentence-case headlines and excerpt text count any
    capitalised run that does not merely start a sentence. A single word that
    only ever starts sentences counts when it starts two of them ("Tessaro
    recalls…" / "Tessaro is recalling…").
    """
    words = [w for w in re.findall(r"[A-Za-z][\w-]*", title) if w.lower() not in _SMALL_WORDS]
    title = _GENERIC_PHRASES.sub(" | ", title)
    excerpt = _TICKER.sub(" | ", _GENERIC_PHRASES.sub(" | ", excerpt))
    if excerpt and excerpt[-1].isalnum():
        # Feeds cut excerpts mid-word ("Amaz"): the last word is not trustworthy.
        excerpt = excerpt.rsplit(" ", 1)[0]
    title_case_style = sum(w[0].isupper() for w in words) > 0.7 * max(1, len(words))
    found: list[str] = []

    def add(ws: list[str]) -> None:
        trimmed = _trim(ws)
        # "Electronic Health" trimmed to "Health" is a common word, not a name.
        if (
            not trimmed
            or len(trimmed) > 4
            or (len(trimmed) == 1 < len(ws) and not _namey(trimmed[0]))
        ):
            return
        ws = trimmed
        name = " ".join(ws)
        if (
            len(name) >= 3
            and not name[0].isdigit()
            and "XX" not in name
            and "--" not in name
            and not name.startswith("AI-")
            and not re.match(r"^[A-Z]-", name)
            and not name.endswith(("-based", "-generated"))
            and not (len(ws) == 1 and name.lower() in _PLACES)
            and not (len(ws) == 1 and not _namey(name) and name.endswith(_PEOPLE_ENDINGS))
            and not re.search(r"research|market", name, re.I)
            and name.lower() not in (f.lower() for f in found)
        ):
            found.append(name)

    starters: list[str] = []  # single words seen only at sentence starts
    for run, initial in _cap_runs(title):
        if not title_case_style:
            kept = _trim(run)
            if not initial or len(kept) > 1 or _namey(run[0]):
                add(run)
            elif kept:
                starters.append(kept[0])
            continue
        i = 0
        while i < len(run):
            # Longest stretch from i that the excerpt repeats, else a name-shaped token.
            for j in range(len(run), i, -1):
                piece = " ".join(run[i:j])
                if (j - i > 1 or run[i].lower() not in _GENERIC_CAPS) and re.search(
                    rf"(?<!\w){re.escape(piece)}(?![a-z0-9])", excerpt
                ):
                    add(run[i:j])
                    i = j
                    break
            else:
                if _namey(run[i]):
                    add([run[i]])
                i += 1
    for run, initial in _cap_runs(excerpt):
        kept = _trim(run)
        if kept and (not initial or len(kept) > 1 or _namey(run[0])):
            add(run)
        elif kept:
            if kept[0] in starters:
                add(kept)
            starters.append(kept[0])
    return found


_FIRST_SET = frozenset(_FIRST)
_TECH_PHRASES = sorted({p for ps in TECH.values() for p in ps}, key=lambda p: (-len(p), p))
_PRODUCT_OWNER = {p: co for co, ps in PRODUCTS.items() for p in ps}
_MARKET_SUBJECT = re.compile(
    r"((?:[A-Z(][\w()/&’'.-]*|in|and|as|a|of)(?:\s+(?:[A-Z(][\w()/&’'.-]*|in|and|as|a|of))*)"
    r"\s+Market\b"
)
_SUBJECT_LEAD = _words(
    "how will global increasing demand for impact of covid-19 on the fuel to target"
)


@dataclass(slots=True)
class Anchors:
    """What makes a real record findable: its names, subject and setting."""

    url: str
    title: str
    family: str
    topics: tuple[str, ...]
    orgs: list[str]
    people: list[str]
    products: list[str]
    phrases: list[str]
    subject: str | None
    provider: tuple[str, str] | None
    when: datetime


def market_subject(title: str) -> str | None:
    """'How Will Service Robotics Market Deal…' → 'Service Robotics'."""
    m = _MARKET_SUBJECT.search(title)
    if not m:
        return None
    words = m.group(1).split()
    while words and (words[0].lower() in _SUBJECT_LEAD or words[0][0].islower()):
        words.pop(0)
    subj = " ".join(words)
    return subj if len(subj) >= 2 else None


def anchors_of(a: Article) -> Anchors:
    """Extract the entities, subject phrase and setting of one real record."""
    text = f"{a.title}. {a.excerpt}"
    low = text.lower()
    phrases: list[str] = []
    for p in _TECH_PHRASES:
        if re.search(rf"(?<![\w-]){re.escape(p.lower())}(?![\w-])", low) and not any(
            p.lower() in q.lower() for q in phrases
        ):
            phrases.append(p)
    generic = set(TECH["AI"])
    phrases.sort(key=lambda p: p in generic)
    orgs: list[str] = []
    people: list[str] = []
    products: list[str] = []
    names = _entities(a.title, a.excerpt)
    title_low = a.title.lower()
    provider_names = {a.provider.name.lower()} if a.provider else set()
    for name in names:
        parts = name.split()
        if name in _PRODUCT_OWNER:
            products.append(name)
        elif len(parts) == 2 and parts[0] in _FIRST_SET:
            people.append(name)
        elif (
            name in RESEARCH_FIRMS
            or any(name.lower() in p for p in provider_names)
            or name.lower() in (p.lower() for p in phrases)
        ):
            continue
        else:
            orgs.append(name)
    # Names in the title say what the story is about; excerpt names are context.
    orgs.sort(key=lambda o: o.lower() not in title_low)
    subject = market_subject(a.title)
    prov = (a.provider.name, a.provider.domain) if a.provider else None
    return Anchors(
        url=a.url,
        title=a.title,
        family=classify_event(a.title),
        topics=a.topics,
        orgs=orgs[:6],
        people=people[:3],
        products=products[:3],
        phrases=phrases[:4],
        subject=subject,
        provider=prov,
        when=a.published or DATE_START,
    )


def load_real(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[Article]:
    """Parse every record under the given files/folders; bad ones are skipped."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    out: list[Article] = []
    for f in scan_paths(paths).files:
        try:
            out.append(parse_file(f))
        except RecordError:
            continue
    return out


# ---------------------------------------------------------------------------
# The generator


@dataclass(slots=True)
class GenRecord:
    """One generated story: front matter in real-file key order, plus body."""

    front: dict[str, Any]
    body: str = ""
    kind: str = "background"  # "background", "near" or "twin"
    near_of: str | None = None  # webUrl of the real record a distractor imitates
    family: str = ""

    @property
    def url(self) -> str:
        return self.front["webUrl"]

    @property
    def title(self) -> str:
        return self.front["title"]

    @property
    def filename(self) -> str:
        return f"{self.front['publishedDateTime'][:10]}-{slugify(self.title, 120)}.md"

    def to_text(self) -> str:
        return render_record(self.front, self.body)

    def to_article(self, path: str = "<generated>") -> Article:
        """The Article the parser would build from the file, without YAML."""
        return article_from_mapping(self.front, path, self.body)


_FIGURE = re.compile(r"(?<!COVID-)(?<![\w.])\d+(?:\.\d+)?")


class _Gen:
    def __init__(self, seed: int, real: Sequence[Article] = ()) -> None:
        self.rng = random.Random(seed)
        self.urls: set[str] = set()
        self.titles: set[str] = set()
        for a in real:
            self.urls.add(a.url)
            self.titles.add(a.title.casefold())
            for rel in a.related:
                self.urls.add(rel.url)
                self.titles.add(rel.title.casefold())
        # Startup names are drawn once per generator so the same names recur
        # across stories, as real companies do.
        r = self.rng
        self.startups = [
            f"{a}{b}{s}"
            for a, b, s in (
                (r.choice(_SYL_A), r.choice(_SYL_B), r.choice(_CO_SUFFIX)) for _ in range(400)
            )
        ]

    # -- slots ------------------------------------------------------------
    def when(self) -> datetime:
        span = int((DATE_END - DATE_START).total_seconds() // 60)
        return DATE_START + timedelta(minutes=self.rng.randrange(span))

    def org(self) -> str:
        r = self.rng
        return r.choice(BIG_COMPANIES) if r.random() < 0.35 else r.choice(self.startups)

    def person(self) -> str:
        return f"{self.rng.choice(_FIRST)} {self.rng.choice(_LAST)}"

    def product(self, org: str) -> str:
        r = self.rng
        if org in PRODUCTS and r.random() < 0.6:
            return r.choice(PRODUCTS[org])
        name = f"{r.choice(PRODUCT_A)}{r.choice(PRODUCT_B)}"
        return name + r.choice(("", "", "", " 2.0", " 3.0", " X"))

    def dateline(self, when: datetime) -> str:
        return f"{self.rng.choice(CITIES)}, {MONTHS[when.month - 1]} {when.day}, {when.year}"

    def ctx(self, topic: str, when: datetime) -> _Ctx:
        r = self.rng
        org = COMPANY_TOPICS.get(topic) or self.org()
        tech_topic = TECH_TOPIC_OF_COMPANY.get(topic, topic)
        tech = r.choice(TECH.get(tech_topic) or TECH["AI"])
        org2 = self.org()
        while org2 == org:
            org2 = self.org()
        return _Ctx(
            topic=topic,
            tech=tech,
            org=org,
            org2=org2,
            person=self.person(),
            region=r.choice(REGIONS),
            industry=r.choice(INDUSTRIES),
            when=when,
            dateline=self.dateline(when),
            product=self.product(org),
            firm=r.choice(RESEARCH_FIRMS),
            startup=r.choice(self.startups),
        )

    def topics_for(self, primary: str) -> list[str]:
        r = self.rng
        if primary == "AI":
            return ["AI"]
        out = [primary, "AI"] if r.random() < 0.85 else ["AI", primary]
        if r.random() < 0.12:
            extra = r.choices(_TOPIC_NAMES, cum_weights=_TOPIC_CUM)[0]
            if extra not in out:
                out.append(extra)
        return out

    # -- pieces -------------------------------------------------------------
    def fresh_title(self, candidates: Sequence[str]) -> str:
        # Real headlines stop around 150 characters; longer variants go last.
        candidates = sorted(candidates, key=lambda t: len(t) > 150)
        for t in candidates:
            if t.casefold() not in self.titles:
                self.titles.add(t.casefold())
                return t
        # Every variant taken: a suffix as outlets add to wire copy.
        t = f"{candidates[0]} | {self.rng.choice(OUTLETS).name}"
        self.titles.add(t.casefold())
        return t

    def url_for(self, outlet: Outlet, title: str, when: datetime) -> str:
        author = f"{self.rng.choice(_FIRST)}{self.rng.choice(_LAST)}".lower()
        url = outlet.url.format_map(_UrlParts(self.rng, title, when, author))
        base, n = url, 2
        while url in self.urls:
            # Same headline on the same day from one outlet: CMSes add a counter.
            url = base.rstrip("/") + f"-{n}" + ("/" if base.endswith("/") else "")
            n += 1
        self.urls.add(url)
        return url

    def image(self, outlet: Outlet, title: str, when: datetime, with_title: bool) -> dict:
        r = self.rng
        w, h = r.choice(IMAGE_SIZES)
        pattern = outlet.img.replace("{domain}", outlet.domain)
        img: dict[str, Any] = {
            "url": pattern.format_map(_UrlParts(r, title, when, "")),
            "width": w,
            "height": h,
        }
        if r.random() < 0.7:
            img["isCached"] = True
        if with_title:
            img["title"] = title
        return img

    def excerpt(self, ev: _Event, c: _Ctx) -> str:
        r = self.rng
        parts = [r.choice(ev.excerpts)]
        target = max(110, min(460, int(r.gauss(215, 80))))
        fill = list(ev.filler or FILLER)
        r.shuffle(fill)
        for f in fill:
            if len(" ".join(parts)) >= target:
                break
            parts.append(
                f.format(
                    tech=c.tech,
                    org=c.org,
                    org2=c.org2,
                    region=c.region,
                    industry=c.industry,
                    y2=c.when.year + 5,
                )
            )
        text = " ".join(parts)
        if len(text) > target + 40:
            # Feeds cut excerpts mid-sentence, often with an ellipsis.
            text = text[:target].rsplit(" ", 1)[0].rstrip(",;:")
            if r.random() < 0.5:
                text += " ..."
        return text

    def body(self, ev: _Event, c: _Ctx, excerpt: str) -> str:
        r = self.rng
        paras = [excerpt.removesuffix(" ...")]
        for h in r.sample(BODY_HEADINGS, r.randrange(1, 3)):
            paras.append(h)
            paras.append(
                " ".join(
                    f.format(
                        tech=c.tech,
                        org=c.org,
                        region=c.region,
                        industry=c.industry,
                        y2=c.when.year + 5,
                    )
                    for f in r.sample(FILLER, 3)
                )
            )
        if r.random() < 0.5:
            paras.append("\n".join(f"- {_cap(g)}" for g in r.sample(GOALS, 3)))
        return "\n\n".join(paras) + "\n"

    def related(self, ev: _Event, c: _Ctx, own_title: str, count: int) -> list[dict]:
        r = self.rng
        out: list[dict] = []
        # Other outlets' headlines for this event: the variants not used as ours.
        variants = [t for t in ev.titles if t != own_title]
        for _ in range(count):
            outlet = r.choices(OUTLETS, cum_weights=_OUTLET_CUM)[0]
            when = c.when + timedelta(minutes=r.randrange(-3 * 1440, 3 * 1440))
            if variants and r.random() < 0.55:
                # Another outlet's headline for the same event.
                title = variants.pop(0)
                exc = r.choice(ev.excerpts)
            else:
                # A neighbouring story, as feeds list "more on this topic".
                fam = r.choices(_FAMILY_NAMES, cum_weights=_FAMILY_CUM)[0]
                other = _FAMILIES[fam][0](r, self.ctx(c.topic, when))
                title = other.titles[0]
                exc = other.excerpts[0]
            title = self.fresh_title([title])
            url = self.url_for(outlet, title, when)
            rel: dict[str, Any] = {
                "title": title,
                "excerpt": exc if len(exc) < 300 else exc[:240].rsplit(" ", 1)[0],
                "publishedDateTime": _iso(when),
                "webUrl": url,
            }
            if outlet.amp and r.random() < 0.7:
                rel["ampWebUrl"], rel["cdnAmpWebUrl"] = _amp_urls(url, outlet.amp)
            rel["type"] = "article"
            rel["provider"] = {"name": outlet.name, "domain": outlet.domain}
            rel["quality"] = r.randrange(0, 95)
            if r.random() < 0.85:
                rel["images"] = [self.image(outlet, title, when, False)]
            out.append(rel)
        return out

    def secured(self) -> str:
        r = self.rng
        head = base64.b64encode(r.randbytes(r.choice((240, 240, 240, 273, 369, 402)))).decode()
        return f"{head};{base64.b64encode(r.randbytes(16)).decode()}"

    def related_count(self) -> int:
        return self.rng.choices(range(7), weights=(50, 20, 10, 11, 3, 3, 3))[0]

    # -- records ------------------------------------------------------------
    def record(
        self,
        ev: _Event,
        c: _Ctx,
        outlet: Outlet,
        topics: list[str],
        title: str,
        body_rate: float,
        n_related: int,
    ) -> GenRecord:
        r = self.rng
        when = c.when
        url = self.url_for(outlet, title, when)
        front: dict[str, Any] = {"category": "news", "title": title}
        excerpt = self.excerpt(ev, c)
        body = ""
        if r.random() < body_rate:
            body = self.body(ev, c, excerpt)
            if r.random() < 0.5:
                excerpt = ""
        if excerpt:
            front["excerpt"] = excerpt
        front["publishedDateTime"] = _iso(when)
        if when.year >= 2021 and r.random() < 0.7:
            front["originalUrl"] = url
        front["webUrl"] = url
        if outlet.amp and r.random() < 0.6:
            front["ampWebUrl"], front["cdnAmpWebUrl"] = _amp_urls(url, outlet.amp)
        front["type"] = "article"
        if r.random() < 0.75:
            q = max(0, min(95, int(r.triangular(0, 95, 55))))
            front["quality"] = q
            front["heat"] = -1 if r.random() < 0.35 else q + r.choice((0, 0, 10, 20))
            if r.random() < 0.75:
                front["published"] = r.random() < 0.3
        prov: dict[str, Any] = {"name": outlet.name, "domain": outlet.domain}
        if r.random() < 0.2:
            prov["images"] = [
                {
                    "url": "https://smartableai.github.io/artificial-intelligence/assets/images/"
                    f"organizations/{outlet.domain}-50x50.jpg",
                    "width": 50,
                    "height": 50,
                }
            ]
        front["provider"] = prov
        front["topics"] = topics
        if r.random() < 0.8:
            front["images"] = [self.image(outlet, title, when, r.random() < 0.3)]
        rel = self.related(ev, c, title, n_related)
        if rel:
            front["related"] = rel
        front["secured"] = self.secured()
        return GenRecord(front=front, body=body, family=ev.family)

    def background(self, body_rate: float) -> GenRecord:
        r = self.rng
        topic = r.choices(_TOPIC_NAMES, cum_weights=_TOPIC_CUM)[0]
        c = self.ctx(topic, self.when())
        fam = r.choices(_FAMILY_NAMES, cum_weights=_FAMILY_CUM)[0]
        ev = _FAMILIES[fam][0](r, c)
        outlet = r.choices(OUTLETS, cum_weights=_OUTLET_CUM)[0]
        title = self.fresh_title(ev.titles)
        return self.record(
            ev, c, outlet, self.topics_for(topic), title, body_rate, self.related_count()
        )

    def twins(self, body_rate: float) -> list[GenRecord]:
        """Two outlets' takes on one event, each listing the other as related."""
        r = self.rng
        topic = r.choices(_TOPIC_NAMES, cum_weights=_TOPIC_CUM)[0]
        c = self.ctx(topic, self.when())
        fam = r.choice([f for f in _FAMILY_NAMES if f != "market"])
        ev = _FAMILIES[fam][0](r, c)
        o1, o2 = r.sample(OUTLETS, 2)
        t1 = self.fresh_title(ev.titles[:1])
        t2 = self.fresh_title(ev.titles[1:2] or [t1 + " (update)"])
        topics = self.topics_for(topic)
        a = self.record(ev, c, o1, topics, t1, body_rate, r.randrange(0, 3))
        c.when += timedelta(minutes=r.randrange(20, 600))
        b = self.record(ev, c, o2, topics, t2, body_rate, r.randrange(0, 3))
        for x, y in ((a, b), (b, a)):
            link = {
                "title": y.title,
                "excerpt": y.front.get("excerpt", "")[:200],
                "publishedDateTime": y.front["publishedDateTime"],
                "webUrl": y.url,
                "type": "article",
                "provider": dict(y.front["provider"]),
                "quality": y.front.get("quality", 50),
            }
            link["provider"].pop("images", None)
            rel = x.front.setdefault("related", [])
            rel.insert(0, link)
            # Keep 'secured' last, as in real files.
            x.front["secured"] = x.front.pop("secured")
            x.kind = "twin"
        return [a, b]

    def near(self, anc: Anchors, body_rate: float) -> GenRecord:
        r = self.rng
        topic = next((t for t in anc.topics if t != "AI"), "AI")
        # Near in time too, so date filters do not separate them.
        when = anc.when + timedelta(minutes=r.randrange(-540 * 1440, 540 * 1440))
        when = min(max(when, DATE_START), DATE_END)
        c = self.ctx(topic, when)
        names = anc.orgs + anc.products
        if names and r.random() < 0.8:
            c.org = r.choice(names[:3]) if r.random() < 0.7 else r.choice(names)
            c.product = self.product(c.org)
        if anc.products and r.random() < 0.5:
            c.product = r.choice(anc.products)
            c.org = _PRODUCT_OWNER.get(c.product, c.org)
        if anc.people and r.random() < 0.7:
            c.person = r.choice(anc.people)
        generic = TECH["AI"]
        specific = [p for p in anc.phrases if p not in generic]
        if anc.subject and anc.subject.lower() not in ("ai", "artificial intelligence"):
            specific.append(lower_phrase(anc.subject))
        if specific and r.random() < 0.85:
            c.tech = r.choice(specific)
        elif anc.phrases and r.random() < 0.3:
            c.tech = r.choice(anc.phrases)
        if len(names) > 1 and r.random() < 0.5:
            c.org2 = r.choice([n for n in names if n != c.org] or [c.org2])

        title = ""
        if anc.family == "market" and anc.subject and r.random() < 0.35:
            title, subject = self.sibling_title(anc, topic)
            # The excerpt must be about the sibling's subject, not the real one's.
            c.tech = subject
            ev = _fam_market(r, c)
        if not title:
            choices = [f for f in _FAMILY_NAMES if f != anc.family]
            weights = [_FAMILIES[f][1] if f != "market" else 4 for f in choices]
            ev = _FAMILIES[r.choices(choices, weights=weights)[0]][0](r, c)
            title = self.fresh_title(ev.titles)
        if anc.provider and r.random() < 0.6:
            name, domain = anc.provider
            outlet = next((o for o in OUTLETS if o.domain == domain), None) or Outlet(
                name, domain, 1, f"https://www.{domain}/news/{{slug}}-{{id7}}"
            )
        else:
            outlet = r.choices(OUTLETS, cum_weights=_OUTLET_CUM)[0]
        topics = list(anc.topics) or self.topics_for(topic)
        rec = self.record(ev, c, outlet, topics, title, body_rate, self.related_count())
        rec.kind, rec.near_of = "near", anc.url
        return rec

    def sibling_title(self, anc: Anchors, topic: str) -> tuple[str, str]:
        """Same headline frame, another subject and other figures: a sibling report.

        Returns (title, its subject); the title is "" when every try collides
        with a title already taken.
        """
        r = self.rng
        subject = anc.subject or ""
        pool = [p for p in TECH.get(topic, TECH["AI"]) if p.lower() not in subject.lower()]

        def renumber(m: re.Match[str]) -> str:
            s = m.group(0)
            if len(s) == 4 and s.startswith("20"):
                return str(int(s) + r.choice((1, 2, 3)))
            if "." in s:
                return f"{r.uniform(1, 99):.{len(s.split('.')[1])}f}"
            return str(r.randrange(2, 99))

        new = ""
        for _ in range(4):
            new = r.choice(pool)
            t = anc.title.replace(subject, title_case(new), 1)
            # COVID-19 is a name, not a figure.
            t = _FIGURE.sub(renumber, t)
            if t.casefold() not in self.titles:
                self.titles.add(t.casefold())
                return t, new
        return "", new


def generate_records(
    n: int,
    seed: int = 1,
    near: str | os.PathLike[str] | Sequence[str | os.PathLike[str] | Article] | None = None,
    near_share: float = 0.5,
    twin_rate: float = 0.03,
    body_rate: float = 0.02,
) -> list[GenRecord]:
    """Make ``n`` records, the same for the same arguments.

    near: real records (folders/files, or parsed Articles) to build
        near-neighbour distractors of; ``near_share`` of the ``n`` records are
        then distractors, spread evenly over the real ones.
    twin_rate: share of background records that come as two outlets' takes on
        one event, each listing the other in ``related``.
    body_rate: share of records with a Markdown body (half of those without excerpt).
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    if not 0 <= near_share <= 1:
        raise ValueError("near_share must be between 0 and 1")
    real: list[Article] = []
    if near is not None:
        items = [near] if isinstance(near, (str, os.PathLike)) else list(near)
        paths = [x for x in items if isinstance(x, (str, os.PathLike))]
        real = [x for x in items if isinstance(x, Article)] + (load_real(paths) if paths else [])
        # Sorted by URL so the output does not depend on how the folders were
        # named or listed, only on the records in them.
        real.sort(key=lambda a: a.url)
    g = _Gen(seed, real)
    out: list[GenRecord] = []
    if real:
        anchors = [anchors_of(a) for a in real]
        n_near = min(n, round(n * near_share))
        order = list(range(len(anchors)))
        g.rng.shuffle(order)
        for i in range(n_near):
            out.append(g.near(anchors[order[i % len(order)]], body_rate))
    while len(out) < n:
        if g.rng.random() < twin_rate and n - len(out) >= 2:
            out.extend(g.twins(body_rate))
        else:
            out.append(g.background(body_rate))
    if real:
        # Interleave so a prefix of the list is a fair sample of both kinds.
        g.rng.shuffle(out)
    return out


def generate_articles(n: int, seed: int = 1, **kwargs: Any) -> list[Article]:
    """generate_records(), parsed into Articles without touching the disk."""
    return [
        r.to_article(f"<generated:{i}>") for i, r in enumerate(generate_records(n, seed, **kwargs))
    ]


def generate_titles(n: int, seed: int = 1) -> list[str]:
    """Just headlines, distinct and deterministic, for cheap title-only stores.

    About 5x cheaper than generate_records(): no excerpts, URLs or related lists.
    """
    g = _Gen(seed)
    r = g.rng
    out: list[str] = []
    while len(out) < n:
        topic = r.choices(_TOPIC_NAMES, cum_weights=_TOPIC_CUM)[0]
        family = _FAMILIES[r.choices(_FAMILY_NAMES, cum_weights=_FAMILY_CUM)[0]][0]
        ev = family(r, g.ctx(topic, g.when()))
        for t in ev.titles:
            if t.casefold() not in g.titles:
                g.titles.add(t.casefold())
                out.append(t)
                break
    return out


def render_record(front: dict[str, Any], body: str = "") -> str:
    """Front matter laid out as the real files are (blank line between blocks)."""
    lines = ["---"]
    ap = lines.append
    for key, val in front.items():
        if key in ("provider", "topics", "images", "related"):
            continue
        if key == "secured":
            continue  # written last, after the blocks, as in real files
        if isinstance(val, bool):
            ap(f"{key}: {'true' if val else 'false'}")
        elif isinstance(val, (int, float)) or key in ("publishedDateTime", "category", "type"):
            ap(f"{key}: {val}")
        else:
            ap(f"{key}: {_yaml_str(val)}")
    prov = front.get("provider")
    if prov:
        ap("")
        ap("provider:")
        ap(f"  name: {_yaml_plain(prov['name'])}")
        ap(f"  domain: {prov['domain']}")
        if prov.get("images"):
            ap("  images:")
            _images(lines, prov["images"], "    ")
    if front.get("topics"):
        ap("")
        ap("topics:")
        for t in front["topics"]:
            ap(f"  - {_yaml_plain(t)}")
    if front.get("images"):
        ap("")
        ap("images:")
        _images(lines, front["images"], "  ")
    if front.get("related"):
        ap("")
        ap("related:")
        for rel in front["related"]:
            first = True
            for k, v in rel.items():
                lead = "  - " if first else "    "
                first = False
                if k == "provider":
                    ap(f"{lead}provider:")
                    ap(f"      name: {_yaml_plain(v['name'])}")
                    ap(f"      domain: {v['domain']}")
                elif k == "images":
                    ap(f"{lead}images:")
                    _images(lines, v, "      ")
                elif k in ("publishedDateTime", "type") or isinstance(v, (int, float)):
                    ap(f"{lead}{k}: {v}")
                else:
                    ap(f"{lead}{k}: {_yaml_str(v)}")
    if front.get("secured"):
        ap("")
        ap(f"secured: {_yaml_str(front['secured'])}")
    ap("---")
    text = "\n".join(lines) + "\n"
    if body:
        text += "\n" + body.strip("\n") + "\n"
    return text


def _images(lines: list[str], images: list[dict], pad: str) -> None:
    for img in images:
        lines.append(f"{pad}- url: {_yaml_str(img['url'])}")
        for k in ("width", "height"):
            if k in img:
                lines.append(f"{pad}  {k}: {img[k]}")
        if img.get("isCached"):
            lines.append(f"{pad}  isCached: true")
        if img.get("title"):
            lines.append(f"{pad}  title: {_yaml_str(img['title'])}")


def write_records(records: Iterable[GenRecord], out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write each record as ``YYYY-MM-DD-slug.md`` in out_dir; names made unique."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    paths: list[Path] = []
    for rec in records:
        name = rec.filename
        if name in taken:
            stem, n = name[:-3], 2
            while f"{stem}-{n}.md" in taken:
                n += 1
            name = f"{stem}-{n}.md"
        taken.add(name)
        p = out / name
        with open(p, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(rec.to_text())
        paths.append(p)
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m bench.corpusgen", description=(__doc__ or "").split("\n")[0]
    )
    ap.add_argument("--n", type=int, default=10_000, help="number of records (default 10000)")
    ap.add_argument("--out", required=True, help="folder to write the records into")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--near",
        action="append",
        default=[],
        help="folder/file of real records to make near-neighbour distractors of (repeatable)",
    )
    ap.add_argument(
        "--near-share",
        type=float,
        default=0.5,
        help="share of the records that are distractors when --near is given",
    )
    ap.add_argument("--twin-rate", type=float, default=0.03)
    ap.add_argument("--body-rate", type=float, default=0.02)
    ap.add_argument(
        "--check",
        type=int,
        default=200,
        metavar="K",
        help="re-parse K written files with bot.core.records (0: skip)",
    )
    args = ap.parse_args(argv)

    out = Path(args.out)
    if out.is_dir() and any(out.glob("*.md")):
        # Left-over files from another run would silently join the store.
        print(f"warning: {out} already holds .md files; they are kept", file=sys.stderr)
    t0 = time.perf_counter()
    near = load_real(args.near) if args.near else None
    if args.near and not near:
        print(f"no records found under {args.near}", file=sys.stderr)
        return 2
    recs = generate_records(
        args.n,
        args.seed,
        near=near,
        near_share=args.near_share,
        twin_rate=args.twin_rate,
        body_rate=args.body_rate,
    )
    t1 = time.perf_counter()
    paths = write_records(recs, args.out)
    t2 = time.perf_counter()
    size = sum(p.stat().st_size for p in paths)
    kinds: dict[str, int] = {}
    for r in recs:
        kinds[r.kind] = kinds.get(r.kind, 0) + 1
    print(
        f"generated {len(recs):,} records in {t1 - t0:.1f}s, wrote {size / 1e6:.1f} MB "
        f"to {args.out} in {t2 - t1:.1f}s ({', '.join(f'{k}: {v:,}' for k, v in kinds.items())})"
    )
    if args.check:
        step = max(1, len(paths) // args.check)
        bad = 0
        for p in paths[::step]:
            try:
                a = parse_file(p)
            except RecordError as exc:
                print(f"check: {exc}", file=sys.stderr)
                bad += 1
                continue
            if a.warnings:
                print(f"check: {a.warnings[0]}", file=sys.stderr)
                bad += 1
        print(f"check: {len(paths[::step]) - bad}/{len(paths[::step])} sampled files parse cleanly")
        if bad:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
