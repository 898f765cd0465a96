"""Mock MailChimp Marketing v3 + HubSpot CRM v3 APIs over one deterministic, seeded world.

`mock_apis.testing.MockServer` runs them on loopback for tests; `mock_apis.serve`
serves them in the foreground (`elt mock-apis`, `python -m mock_apis`);
`mock_apis.groundtruth` says what they hold.

The world (split by concern):
- `model`: the record types (Person, MailList, Member, Campaign, CrmObject, Owner, ...),
  `WorldConfig` and the vocabulary both APIs share.
- `generate`: fills a world from its seed; `advance`: moves its clock and changes records.
- `world`: `World`, the state and its entry points (re-exports `model`).
- `clock`: the reference clock and both vendors' time formats; `pipelines`,
  `properties`: HubSpot's deal pipelines and property catalogue.
- `defects`: the data defects a world can be given (kinds, `DefectSpec`); `inject`
  (+ `inject_kinds`): `DefectBook`, which applies them, remembers the keys they hit
  and clears them.

The app:
- `app`: `MockApp`, the ASGI routing, response cache and socket-level faults.
- `policy`: auth, rate limits, the URL-length limit and fault injection (`Limits`,
  `Fault`; re-exported by `app`).
- `admin`: the `/_admin/` API (advance, faults, defects, limits, ground truth, state,
  health).
- `mailchimp` (+ `mc_shapes`), `hubspot`: each vendor's endpoints over the world;
  `memo`: their per-version views; `errors`: the vendors' error shapes.
"""
