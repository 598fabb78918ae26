//! Identifiers as types of their own, so a request id can't be passed where a user id is meant,
//! nor a channel where a message is: requests are numbered by the database, people, roles,
//! guilds, channels and messages by the chat (Discord snowflakes).

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident($inner:ty)) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name($inner);

        impl $name {
            /// The id `value`.
            pub const fn new(value: $inner) -> Self {
                $name(value)
            }

            /// The number.
            pub const fn get(self) -> $inner {
                self.0
            }
        }

        impl From<$inner> for $name {
            fn from(value: $inner) -> Self {
                $name(value)
            }
        }

        impl PartialEq<$inner> for $name {
            fn eq(&self, other: &$inner) -> bool {
                self.0 == *other
            }
        }

        impl std::str::FromStr for $name {
            type Err = <$inner as std::str::FromStr>::Err;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                text.parse().map($name)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

id_type!(
    /// A purchase request, numbered by the database.
    RequestId(i64)
);
id_type!(
    /// A person in the chat.
    UserId(u64)
);
id_type!(
    /// A role people hold in the chat.
    RoleId(u64)
);
id_type!(
    /// A guild (Discord server).
    GuildId(u64)
);
id_type!(
    /// A channel or thread.
    ChannelId(u64)
);
id_type!(
    /// A message.
    MessageId(u64)
);

/// A chat id as the databases store it: `BIGINT` is signed, Discord's snowflakes are unsigned and
/// below 2^63, so the bits are kept as they are.
pub trait StoredId: Sized {
    /// As stored.
    fn to_stored(self) -> i64;
    /// From the stored number.
    fn from_stored(stored: i64) -> Self;
}

macro_rules! stored_snowflake {
    ($($name:ident),+) => {
        $(impl StoredId for $name {
            fn to_stored(self) -> i64 {
                self.0 as i64
            }
            fn from_stored(stored: i64) -> Self {
                $name(stored as u64)
            }
        })+
    };
}
stored_snowflake!(UserId, RoleId, GuildId, ChannelId, MessageId);

impl StoredId for RequestId {
    fn to_stored(self) -> i64 {
        self.0
    }
    fn from_stored(stored: i64) -> Self {
        RequestId(stored)
    }
}
