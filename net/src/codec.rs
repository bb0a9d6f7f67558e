//! The two request-response protocols of a node and their framing.
//!
//! * [`NODE_PROTOCOL`] (`/pastry/1.0.0`): one request per Pastry message, the message's bytes
//!   as [`Message::to_vec`](pastry_node::Message::to_vec) writes them. The response is the
//!   transport-level acknowledgement of the request, and carries the messages the receiver
//!   addressed to the sender while handling it (zero or more, up to [`MAX_RESPONSE_MESSAGES`]):
//!   the hop `Ack` of a routed message, the `Pong` of a `Ping`, the reply to a probe or a row
//!   request. The messages are the same either way; riding in the response only saves a
//!   stream.
//! * [`CLIENT_PROTOCOL`] (`/pastry/client/1.0.0`): a [`ClientRequest`] from a client (the
//!   `pastry route|put|get|remove` commands) to the node it contacts, answered by a
//!   [`ClientResponse`], both as JSON.
//!
//! Every frame is `length (4, big-endian) ‖ bytes`; a response of the node protocol is
//! `count (2) ‖ frames`. A request whose length is over the cap is not read: it becomes
//! [`Request::Refused`], so the node sees who sent it and cuts the peer off. An oversize or
//! malformed response fails the request with an [`io::Error`] of kind
//! [`io::ErrorKind::InvalidData`] whose inner error is a [`FrameError`].

use std::fmt;
use std::io;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::request_response;
use libp2p::StreamProtocol;

use crate::client::{ClientRequest, ClientResponse};

/// The protocol that carries Pastry messages between nodes.
pub const NODE_PROTOCOL: StreamProtocol = StreamProtocol::new("/pastry/1.0.0");
/// The protocol between a client and the node it contacts.
pub const CLIENT_PROTOCOL: StreamProtocol = StreamProtocol::new("/pastry/client/1.0.0");
/// The most messages one response of the node protocol carries.
pub const MAX_RESPONSE_MESSAGES: usize = 16;

/// A request, as read from a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// One encoded Pastry message (not decoded yet).
    Node(Vec<u8>),
    /// A client's call.
    Client(ClientRequest),
    /// A request refused while reading it (never written).
    Refused(FrameError),
}

/// A response, as read from a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    /// The encoded Pastry messages the receiver addressed to the sender while handling its
    /// request (possibly none: the response alone is the acknowledgement).
    Node(Vec<Vec<u8>>),
    /// The answer to a client's call.
    Client(ClientResponse),
}

/// Why a frame was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// The length field is over the cap.
    Oversize {
        /// The length field.
        len: usize,
        /// The cap.
        max: usize,
    },
    /// A response of the node protocol lists more than [`MAX_RESPONSE_MESSAGES`] messages.
    TooManyMessages(usize),
    /// A client frame is not a client request or response.
    BadClientFrame,
    /// A request or response of one protocol on the stream of the other.
    WrongProtocol,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Oversize { len, max } => {
                write!(f, "a frame of {len} bytes is over the cap of {max}")
            }
            FrameError::TooManyMessages(n) => write!(
                f,
                "a response of {n} messages is over the cap of {MAX_RESPONSE_MESSAGES}"
            ),
            FrameError::BadClientFrame => f.write_str("a client frame that does not parse"),
            FrameError::WrongProtocol => f.write_str("a message of the other protocol"),
        }
    }
}

impl std::error::Error for FrameError {}

impl From<FrameError> for io::Error {
    fn from(e: FrameError) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }
}

/// The [`FrameError`] inside an I/O error made by this codec, if it is one.
#[must_use]
pub fn frame_error(e: &io::Error) -> Option<FrameError> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<FrameError>())
        .copied()
}

/// The framing of both protocols, with the cap of one frame.
#[derive(Clone, Copy, Debug)]
pub struct Codec {
    max_frame: usize,
}

impl Codec {
    /// A codec refusing frames over `max_frame` bytes.
    #[must_use]
    pub fn new(max_frame: usize) -> Self {
        Codec { max_frame }
    }

    /// The cap of one frame.
    #[must_use]
    pub fn max_frame(&self) -> usize {
        self.max_frame
    }
}

/// Reads one frame; `Ok(Err(_))` when its length is over `max` (the body is not read).
async fn read_frame<T>(io: &mut T, max: usize) -> io::Result<Result<Vec<u8>, FrameError>>
where
    T: AsyncRead + Unpin + Send,
{
    let mut len = [0u8; 4];
    io.read_exact(&mut len).await?;
    let len = usize::try_from(u32::from_be_bytes(len)).unwrap_or(usize::MAX);
    if len > max {
        return Ok(Err(FrameError::Oversize { len, max }));
    }
    let mut buf = vec![0; len];
    io.read_exact(&mut buf).await?;
    Ok(Ok(buf))
}

async fn write_frame<T>(io: &mut T, bytes: &[u8], max: usize) -> io::Result<()>
where
    T: AsyncWrite + Unpin + Send,
{
    if bytes.len() > max {
        return Err(FrameError::Oversize {
            len: bytes.len(),
            max,
        }
        .into());
    }
    let len = u32::try_from(bytes.len()).map_err(|_| FrameError::Oversize {
        len: bytes.len(),
        max,
    })?;
    io.write_all(&len.to_be_bytes()).await?;
    io.write_all(bytes).await
}

impl request_response::Codec for Codec {
    type Protocol = StreamProtocol;
    type Request = Request;
    type Response = Response;

    async fn read_request<T>(
        &mut self,
        protocol: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Request>
    where
        T: AsyncRead + Unpin + Send,
    {
        let frame = match read_frame(io, self.max_frame).await? {
            Ok(f) => f,
            Err(e) => return Ok(Request::Refused(e)),
        };
        if *protocol == CLIENT_PROTOCOL {
            Ok(serde_json::from_slice(&frame).map_or(
                Request::Refused(FrameError::BadClientFrame),
                Request::Client,
            ))
        } else {
            Ok(Request::Node(frame))
        }
    }

    async fn read_response<T>(
        &mut self,
        protocol: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Response>
    where
        T: AsyncRead + Unpin + Send,
    {
        if *protocol == CLIENT_PROTOCOL {
            let frame = read_frame(io, self.max_frame).await??;
            let r = serde_json::from_slice(&frame).map_err(|_| FrameError::BadClientFrame)?;
            return Ok(Response::Client(r));
        }
        let mut count = [0u8; 2];
        io.read_exact(&mut count).await?;
        let count = usize::from(u16::from_be_bytes(count));
        if count > MAX_RESPONSE_MESSAGES {
            return Err(FrameError::TooManyMessages(count).into());
        }
        let mut messages = Vec::with_capacity(count);
        for _ in 0..count {
            messages.push(read_frame(io, self.max_frame).await??);
        }
        Ok(Response::Node(messages))
    }

    async fn write_request<T>(
        &mut self,
        protocol: &StreamProtocol,
        io: &mut T,
        req: Request,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        match (req, *protocol == CLIENT_PROTOCOL) {
            (Request::Node(bytes), false) => write_frame(io, &bytes, self.max_frame).await?,
            (Request::Client(c), true) => {
                let bytes = serde_json::to_vec(&c).map_err(|_| FrameError::BadClientFrame)?;
                write_frame(io, &bytes, self.max_frame).await?;
            }
            _ => return Err(FrameError::WrongProtocol.into()),
        }
        io.close().await
    }

    async fn write_response<T>(
        &mut self,
        protocol: &StreamProtocol,
        io: &mut T,
        res: Response,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        match (res, *protocol == CLIENT_PROTOCOL) {
            (Response::Node(messages), false) => {
                if messages.len() > MAX_RESPONSE_MESSAGES {
                    return Err(FrameError::TooManyMessages(messages.len()).into());
                }
                let count = u16::try_from(messages.len())
                    .map_err(|_| FrameError::TooManyMessages(messages.len()))?;
                io.write_all(&count.to_be_bytes()).await?;
                for m in &messages {
                    write_frame(io, m, self.max_frame).await?;
                }
            }
            (Response::Client(c), true) => {
                let bytes = serde_json::to_vec(&c).map_err(|_| FrameError::BadClientFrame)?;
                write_frame(io, &bytes, self.max_frame).await?;
            }
            _ => return Err(FrameError::WrongProtocol.into()),
        }
        io.close().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;
    use futures::io::Cursor;
    use request_response::Codec as _;

    fn write_req(c: &mut Codec, p: &StreamProtocol, r: Request) -> io::Result<Vec<u8>> {
        let mut out = Cursor::new(Vec::new());
        block_on(c.write_request(p, &mut out, r))?;
        Ok(out.into_inner())
    }

    #[test]
    fn node_request_and_response_roundtrip() {
        let mut c = Codec::new(100);
        let bytes = write_req(&mut c, &NODE_PROTOCOL, Request::Node(vec![1, 2, 3])).unwrap();
        assert_eq!(bytes, [0, 0, 0, 3, 1, 2, 3]);
        let back = block_on(c.read_request(&NODE_PROTOCOL, &mut Cursor::new(bytes))).unwrap();
        assert_eq!(back, Request::Node(vec![1, 2, 3]));

        let mut out = Cursor::new(Vec::new());
        let res = Response::Node(vec![vec![9], vec![]]);
        block_on(c.write_response(&NODE_PROTOCOL, &mut out, res.clone())).unwrap();
        let mut input = Cursor::new(out.into_inner());
        assert_eq!(
            block_on(c.read_response(&NODE_PROTOCOL, &mut input)).unwrap(),
            res
        );
    }

    #[test]
    fn oversize_request_is_refused_unread() {
        let mut c = Codec::new(10);
        // A length field of 2^31 with no body behind it: the codec must not wait for the body.
        let mut input = Cursor::new(vec![0x80, 0, 0, 0]);
        let r = block_on(c.read_request(&NODE_PROTOCOL, &mut input)).unwrap();
        assert_eq!(
            r,
            Request::Refused(FrameError::Oversize {
                len: 1 << 31,
                max: 10
            })
        );
        // And a writer refuses to send one.
        let e = write_req(&mut c, &NODE_PROTOCOL, Request::Node(vec![0; 11])).unwrap_err();
        assert_eq!(
            frame_error(&e),
            Some(FrameError::Oversize { len: 11, max: 10 })
        );
    }

    #[test]
    fn oversize_or_crowded_response_is_an_invalid_data_error() {
        let mut c = Codec::new(10);
        let mut input = Cursor::new(vec![0, 1, 0, 0, 0, 11]);
        let e = block_on(c.read_response(&NODE_PROTOCOL, &mut input)).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert_eq!(
            frame_error(&e),
            Some(FrameError::Oversize { len: 11, max: 10 })
        );
        let mut input = Cursor::new(vec![0, 17]);
        let e = block_on(c.read_response(&NODE_PROTOCOL, &mut input)).unwrap_err();
        assert_eq!(frame_error(&e), Some(FrameError::TooManyMessages(17)));
    }

    #[test]
    fn truncated_frame_is_an_io_error() {
        let mut c = Codec::new(10);
        let mut input = Cursor::new(vec![0, 0, 0, 5, 1, 2]);
        let e = block_on(c.read_request(&NODE_PROTOCOL, &mut input)).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn client_frames_roundtrip_and_garbage_is_refused() {
        let mut c = Codec::new(1000);
        let req = ClientRequest::Info;
        let bytes = write_req(&mut c, &CLIENT_PROTOCOL, Request::Client(req.clone())).unwrap();
        let back = block_on(c.read_request(&CLIENT_PROTOCOL, &mut Cursor::new(bytes))).unwrap();
        assert_eq!(back, Request::Client(req));
        let mut input = Cursor::new(vec![0, 0, 0, 2, b'{', b'x']);
        assert_eq!(
            block_on(c.read_request(&CLIENT_PROTOCOL, &mut input)).unwrap(),
            Request::Refused(FrameError::BadClientFrame)
        );
        // A node message on the client protocol cannot be written.
        let e = write_req(&mut c, &CLIENT_PROTOCOL, Request::Node(vec![])).unwrap_err();
        assert_eq!(frame_error(&e), Some(FrameError::WrongProtocol));
    }
}
