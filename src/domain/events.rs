//! What a use case tells the outside world happened. Domain functions return
//! these after their transaction commits; `federation::publish` turns each into
//! ActivityPub activities for the remote servers concerned.

use crate::db::entities::{
    actors, blocks, favourites, follows, group_bans, group_invitations, poll_votes, resources,
};

/// Serialisable, so that one that could not be published at once can wait
/// in the database (`federation::publish`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum Event {
    /// A local post (or reply) was published.
    PostCreated(i64),
    PostUpdated(i64),
    /// The post row remains as a tombstone, so its audience is still known.
    PostDeleted(i64),
    /// A local actor boosted a post: the id of the boost row.
    Boosted(i64),
    Unboosted(i64),
    Liked(favourites::Model),
    Unliked(favourites::Model),
    /// A local actor asked to follow someone (pending until accepted).
    Followed(follows::Model),
    Unfollowed(follows::Model),
    /// A local actor accepted someone's follow.
    FollowAccepted(follows::Model),
    FollowRejected(follows::Model),
    Blocked(blocks::Model),
    Unblocked(blocks::Model),
    ProfileUpdated(i64),
    /// The tallies of one of our polls changed: followers get an Update.
    PollUpdated(i64),
    /// A local member voted on a remote poll: the vote goes to its author.
    PollVoted(Box<poll_votes::Model>),
    /// A local account was deleted; the actor row is its tombstone.
    AccountDeleted(Box<actors::Model>),
    /// One of our groups passes on what a member on another server did
    /// (FEP-1b12): the activity as received, Announced to the members.
    GroupRelay {
        group_id: i64,
        activity: Box<serde_json::Value>,
    },
    /// A remote person was invited to one of our groups.
    GroupInvited(group_invitations::Model),
    /// A moderator removed a post (or reply) from one of our groups.
    GroupPostRemoved {
        status_id: i64,
        moderator_id: i64,
        reason: String,
    },
    GroupThreadLocked {
        status_id: i64,
        moderator_id: i64,
        locked: bool,
    },
    GroupPinned {
        group_id: i64,
        status_id: i64,
        pinned: bool,
    },
    /// A remote person was banned from (or let back into) one of our groups.
    GroupBanned(Box<group_bans::Model>),
    GroupUnbanned(Box<group_bans::Model>),
    /// A remote person's answer to one of our events was decided: an
    /// Accept (going) or Reject of their Join, to them.
    EventAnswered {
        participant_id: i64,
        accepted: bool,
    },
    /// A local member answered a remote event: Join (going),
    /// TentativeAccept (maybe) or Leave (not going), to its organiser.
    EventRsvp {
        participant_id: i64,
    },
    /// A local resource became public and published: Create.
    ResourcePublished(i64),
    /// A new revision of a public local resource: Update.
    ResourceUpdated(i64),
    /// A public local resource was deleted or is no longer public: Delete.
    ResourceWithdrawn(Box<resources::Model>),
    /// A report about another server's account goes to that server: Flag.
    ReportForwarded(i64),
}
