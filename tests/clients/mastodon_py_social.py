"""The social side of the client API, driven by Mastodon.py (nobody here
wrote it): profile editing with fields and avatar, a locked account's follow
requests, notifications with their filters, who favourited and boosted,
bookmarks and favourites, paging by the Link header, mute and block, media
focus, and Idempotency-Key retries.

Usage: mastodon_py_social.py BASE ALICE_TOKEN BOB_TOKEN CAROL_TOKEN
Prints one JSON object with what it saw; the Rust test asserts on it.
"""
import json
import sys

from mastodon import Mastodon

BASE, ALICE, BOB, CAROL = sys.argv[1:5]
alice = Mastodon(access_token=ALICE, api_base_url=BASE)
bob = Mastodon(access_token=BOB, api_base_url=BASE)
carol = Mastodon(access_token=CAROL, api_base_url=BASE)
out = {}
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de"
    "0000000c4944415408d763f8cfc000000301010018dd8db00000000049454e44ae426082"
)


def ids(items):
    return [str(i["id"]) for i in items]


# 1. Bob edits his profile and locks it.
me = bob.account_update_credentials(
    display_name="Bob the Biologist",
    note="Teaches biology and runs the school garden.",
    fields=[("Subject", "Biology"), ("School", "Lycée Nord")],
    locked=True,
    avatar=PNG,
    avatar_mime_type="image/png",
)
out["display_name"] = me["display_name"]
out["locked"] = me["locked"]
out["fields"] = [[f["name"], f["value"]] for f in me["fields"]]
out["source_note"] = me["source"]["note"]
out["avatar_changed"] = "/media/" in (me["avatar"] or "") or "avatar" in (me["avatar"] or "")
bob_id = me["id"]
seen = alice.account(bob_id)
out["seen_by_alice"] = [seen["display_name"], seen["locked"], len(seen["fields"])]
alice_id = alice.account_verify_credentials()["id"]
carol_id = carol.account_verify_credentials()["id"]

# 2. Follow requests to a locked account: one accepted, one refused.
rel = alice.account_follow(bob_id)
out["alice_requested"] = [rel["following"], rel["requested"]]
carol.account_follow(bob_id)
requests = bob.follow_requests()
out["request_notifications"] = sorted(
    n["account"]["username"] for n in bob.notifications(types=["follow_request"])
)
out["requests"] = sorted(a["username"] for a in requests)
bob.follow_request_authorize(alice_id)
bob.follow_request_reject(carol_id)
out["requests_after"] = len(bob.follow_requests())
a_rel = alice.account_relationships(bob_id)[0]
c_rel = carol.account_relationships(bob_id)[0]
out["alice_rel"] = [a_rel["following"], a_rel["requested"]]
out["carol_rel"] = [c_rel["following"], c_rel["requested"]]
out["bob_followers"] = [a["username"] for a in bob.account_followers(bob_id)]

# 3. Paging by the Link header: seven posts, three a page.
posted = [bob.status_post(f"Garden diary, day {n}", visibility="public") for n in range(1, 8)]
page1 = bob.account_statuses(bob_id, limit=3)
page2 = bob.fetch_next(page1)
page3 = bob.fetch_next(page2)
back = bob.fetch_previous(page2)
out["pages"] = [len(page1), len(page2), len(page3 or [])]
walked = ids(page1) + ids(page2) + ids(page3 or [])
out["paged_in_order"] = walked == list(reversed(ids(posted)))
out["previous_is_page1"] = ids(back or []) == ids(page1)

# 4. Favourite, boost, bookmark and mention one of Bob's posts.
target = posted[-1]
alice.status_favourite(target["id"])
alice.status_reblog(target["id"])
alice.status_bookmark(target["id"])
alice.status_post("@bob the seedlings look great", visibility="public")
out["favourited_by"] = [a["username"] for a in alice.status_favourited_by(target["id"])]
out["reblogged_by"] = [a["username"] for a in alice.status_reblogged_by(target["id"])]
out["bookmarks"] = ids(alice.bookmarks()) == [str(target["id"])]
out["favourites"] = ids(alice.favourites()) == [str(target["id"])]
out["bookmarked_flag"] = alice.status(target["id"])["bookmarked"]

# 5. Bob's notifications, with the filters apps use.
every = bob.notifications()
out["notification_types"] = sorted({n["type"] for n in every})
out["mentions_only"] = sorted({n["type"] for n in bob.notifications(types=["mention"])})
excluded = bob.notifications(exclude_types=["favourite", "reblog"])
out["excluded_left"] = sorted({n["type"] for n in excluded})
one = every[0]
out["get_by_id"] = str(bob.notifications(id=one["id"])["id"]) == str(one["id"])
bob.notifications_dismiss(one["id"])
out["dismissed_gone"] = str(one["id"]) not in ids(bob.notifications())
bob.notifications_clear()
out["cleared"] = len(bob.notifications())

# 6. Mute, block, unfollow, each visible in the relationship.
alice.account_mute(carol_id)
out["muting"] = alice.account_relationships(carol_id)[0]["muting"]
alice.account_unmute(carol_id)
out["unmuted"] = not alice.account_relationships(carol_id)[0]["muting"]
carol.account_follow(alice_id)
alice.account_block(carol_id)
out["blocking"] = alice.account_relationships(carol_id)[0]["blocking"]
out["block_cut_follow"] = not carol.account_relationships(alice_id)[0]["following"]
alice.account_unblock(carol_id)
out["unblocked"] = not alice.account_relationships(carol_id)[0]["blocking"]
alice.account_unfollow(bob_id)
out["unfollowed"] = not alice.account_relationships(bob_id)[0]["following"]

# 7. A focal point on an image.
media = alice.media_post(PNG, mime_type="image/png", description="Seed tray")
media = alice.media_update(media["id"], focus=(0.5, -0.25))
focus = media["meta"]["focus"]
out["focus"] = [focus["x"], focus["y"]]

# 8. The same Idempotency-Key twice is one post.
first = alice.status_post("Reminder: garden club at noon", idempotency_key="garden-noon")
again = alice.status_post("Reminder: garden club at noon", idempotency_key="garden-noon")
out["idempotent"] = str(first["id"]) == str(again["id"])

print(json.dumps(out))
