//! HJ 212-2017 intake: automatic monitors report by the national transmission standard
//! (`codec`: packets, CRC, the framer). `intake` turns a packet into readings of the device's
//! outlet; `listener` takes packets over TCP.

pub mod codec;
pub mod intake;
pub mod listener;
