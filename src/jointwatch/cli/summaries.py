"""The top-level commands of `jointwatch`: the name of each, the module under jointwatch.cli that
adds it and the first paragraph of its help, in the order `jointwatch --help` lists them: what that
help shows without importing the command modules (jointwatch.cli.LazyGroup).

Written by `python -m jointwatch.cli.docs` from the commands themselves: do not edit by hand.
"""

# ruff: noqa: E501 - each summary on one line, as written

TOP_LEVEL: tuple[tuple[str, str, str], ...] = (
    ('init', 'lists',
     'Create an empty store (or bring an existing one to the newest schema).'),
    ('screen', 'screen',
     'Screen a name, or a CSV of subjects, against the newest version of every loaded list.'),
    ('compare', 'screen',
     'Score two names against each other (0..1) and show how their words align.'),
    ('serve', 'serve',
     'Serve the HTTP API: /match, /screen, /entities, /lists, /decisions, /audit, /health, /metrics.'),
    ('lists', 'lists',
     'Load official and partner lists, keep their history, compare versions.'),
    ('entity', 'entity',
     'Look at listed entities.'),
    ('decisions', 'screen',
     "Decisions on matches: a false positive stops that match alerting for the member; the same decisions as the service's /decisions."),
    ('alerts', 'alerts',
     "The alerts queue: matches a person must look at (customer runs, held payments, referred travellers, partner hits); the same queue as the service's /alerts and the console's Alerts page."),
    ('members', 'members',
     'Members: the partner organisations that call the service.'),
    ('keys', 'members',
     "API keys of members' users (shown once, stored hashed)."),
    ('audit', 'members',
     'The audit trail of the service (append-only).'),
    ('share', 'share',
     'Share entries on terrorists with partners under a distribution, a TLP marking and handling codes; see where they went; exchange them with other tools and servers.'),
    ('discover', 'discover',
     "Blind hit/no-hit discovery: ask whether a partner member holds a person without either side showing its list (docs/blind-discovery.md). A holder opens an offer (discover offer); an asker asks (discover query) and learns hit or no hit, never the holder's names; the holder learns who asked, when and how many keys, never the name."),
    ('requests', 'requests',
     "Requests for information after a blind hit: the asker asks the holder for the entry behind the hit; the holder asks for more, accepts (releasing the entry, which the asker's screening then hits) or declines. Every step is kept in the request's history and both members' audit."),
    ('travel', 'travel',
     'Screen travellers: passports, passenger lists and reservations.'),
    ('payments', 'payments',
     'Screen payment messages (pacs.008, pain.001, MT103).'),
    ('customers', 'payments',
     'Screen customer files; re-screen them when a list changes.'),
    ('freeze', 'payments',
     'The register of frozen assets.'),
    ('network', 'network',
     'Trace terrorist financing through transactions (DuckDB or Spark).'),
    ('media', 'media',
     'The hash bank of known terrorist media: hash, match, exchange.'),
    ('console', 'console_users',
     'The web console served under /console by `jointwatch serve`.'),
)
