"""Drive two Staffroom instances with Mastodon.py, the Python client library
Mastodon apps and bots use (nobody here wrote it).

Usage: mastodon_py_flow.py A_BASE B_BASE ALICE_PASSWORD BOB_TOKEN
Prints one JSON object with what it saw; the Rust test asserts on it.
"""
import json
import re
import sys
import time

import requests
from mastodon import Mastodon

A, B, PASSWORD, BOB_TOKEN = sys.argv[1:5]
OOB = "urn:ietf:wg:oauth:2.0:oob"
SCOPES = ["read", "write", "follow", "push"]
out = {}


def wait(what, fn, timeout=30):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.3)
    raise SystemExit(f"timed out waiting for {what}: {last!r}")


# 1. Register an app and log in through the OAuth code flow, with a browser
#    session answering the consent page.
client_id, client_secret = Mastodon.create_app(
    "Mastodon.py test", scopes=SCOPES, redirect_uris=OOB, api_base_url=A
)
app = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=A)
auth_url = app.auth_request_url(scopes=SCOPES, redirect_uris=OOB, allow_http=True)
browser = requests.Session()


def csrf(html):
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


login_page = browser.get(f"{A}/login", headers={"Accept": "text/html"}).text
r = browser.post(
    f"{A}/login",
    data={"csrf_token": csrf(login_page), "login": "alice", "password": PASSWORD},
    allow_redirects=False,
)
assert r.status_code == 303, r.text
consent = browser.get(auth_url, headers={"Accept": "text/html"})
assert consent.status_code == 200, consent.text
fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', consent.text))
fields["decision"] = "approve"
granted = browser.post(f"{A}/oauth/authorize", data=fields)
code = re.search(r'id="authorization-code">([^<]+)<', granted.text).group(1).strip()
alice = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=A)
alice.log_in(code=code, redirect_uri=OOB, scopes=SCOPES, allow_http=True)
me = alice.account_verify_credentials()
out["login"] = me["acct"]
out["instance_version"] = alice.instance()["version"]

bob = Mastodon(access_token=BOB_TOKEN, api_base_url=B)
bob_me = bob.account_verify_credentials()
b_host = B.split("://", 1)[1]
a_host = A.split("://", 1)[1]

# 2. Post, reply, edit, favourite, boost on one instance.
post = alice.status_post("Lesson plan on #fractions, feedback welcome", visibility="public")
reply = alice.status_reply(post, "Answer key attached below.")
out["reply_to"] = str(reply["in_reply_to_id"]) == str(post["id"])
edited = alice.status_update(post["id"], "Lesson plan on #fractions (v2), feedback welcome")
out["edited"] = "v2" in edited["content"] and edited["edited_at"] is not None
out["history"] = len(alice.status_history(post["id"]))
fav = alice.status_favourite(reply["id"])
out["favourited"] = fav["favourited"] and fav["favourites_count"] == 1
boost = alice.status_reblog(reply["id"])
out["reblogged"] = str(boost["reblog"]["id"]) == str(reply["id"])
context = alice.status_context(post["id"])
out["context_descendants"] = [str(d["id"]) for d in context["descendants"]] == [str(reply["id"])]

# 3. Upload an image with a description and post it.
png = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de"
    "0000000c4944415408d763f8cfc000000301010018dd8db00000000049454e44ae426082"
)
media = alice.media_post(png, mime_type="image/png", description="A single pixel, described")
media = alice.media_update(media["id"], description="A single blue pixel")
with_media = alice.status_post("A worksheet picture", media_ids=[media["id"]])
out["media"] = with_media["media_attachments"][0]["description"]
out["media_type"] = with_media["media_attachments"][0]["type"]
# An edit that does not mention media keeps them (Mastodon's behaviour).
retexted = alice.status_update(with_media["id"], "A worksheet picture, retitled")
out["media_kept_on_edit"] = len(retexted["media_attachments"])

# 4. Find and follow an account on the other instance.
found = alice.search_v2(f"@bob@{b_host}", resolve=True, result_type="accounts")
out["resolved"] = found["accounts"][0]["acct"] if found["accounts"] else None
bob_on_a = found["accounts"][0]
rel = alice.account_follow(bob_on_a["id"])
out["follow_sent"] = rel["following"] or rel["requested"]
wait("follow accepted", lambda: alice.account_relationships(bob_on_a["id"])[0]["following"])
out["following"] = True

# 5. Bob posts; it shows in Alice's home timeline. Alice replies; Bob is notified.
bob_post = bob.status_post("Staff meeting notes from B", visibility="public")
seen = wait(
    "bob's post in alice's home",
    lambda: [s for s in alice.timeline_home() if "Staff meeting notes from B" in s["content"]],
)
out["home_has_bob"] = True
alice.status_reply(seen[0], "Thanks, very useful!")
notes = wait(
    "bob's mention notification",
    lambda: [n for n in bob.notifications(types=["mention"]) if "very useful" in (n.get("status") or {}).get("content", "")],
)
out["bob_notified_by"] = notes[0]["account"]["acct"]
out["bob_notifications_follow"] = any(n["type"] == "follow" for n in bob.notifications())

# 6. Resolve a remote post by URL.
found = alice.search_v2(bob_post["url"] or bob_post["uri"], resolve=True, result_type="statuses")
out["resolved_post"] = bool(found["statuses"]) and "Staff meeting" in found["statuses"][0]["content"]

# 7. Revoke the token: it stops working.
alice.revoke_access_token(allow_http=True)
try:
    alice.account_verify_credentials()
    out["revoked"] = False
except Exception:
    out["revoked"] = True

print(json.dumps(out))
