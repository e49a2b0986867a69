//! Scheme sockets: a process holding the right to serve `NAME` opens `:NAME`, which
//! registers the scheme; reading the socket takes the next request, writing it answers one,
//! and `call` with a pending request's tag asks for that caller's rights; `call` with tag 0
//! (never a request's) followed by a device name asks for that device's quiesce state.

use crate::fallible::{try_string, NameCopy, Text};
use crate::ipc;
use crate::object::{Handles, OpenRequest, Scheme, Sink, Source};
use alloc::string::String;
use kernel_core::Error;

/// Each socket's scheme name.
static HANDLES: Handles<String> = Handles::new();

/// The scheme sockets.
pub struct Sockets;

/// The name behind `handle`, copied out so no lock is held while the server waits.
fn name(handle: u64) -> Result<NameCopy, Error> {
    HANDLES.with(handle, |name| NameCopy::new(name))?
}

impl Scheme for Sockets {
    /// Registers `request.path` as a scheme served by the caller.
    fn open(&self, request: &OpenRequest<'_>) -> Result<u64, Error> {
        let scheme = request.path;
        let valid = !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
        if !valid {
            return Err(Error::InvalidArgument);
        }
        if super::is_kernel_scheme(scheme) || !request.caller.rights.may_serve(scheme) {
            log::warn!(
                "process {} ({}) may not serve scheme {scheme}",
                request.caller.name,
                request.caller.pid
            );
            return Err(Error::AccessDenied);
        }
        let key = try_string(scheme)?;
        ipc::register(scheme)?;
        HANDLES.insert(key)
    }

    /// The next request (blocks until there is one).
    fn read(&self, handle: u64, buffer: &mut dyn Sink) -> Result<usize, Error> {
        ipc::receive(&name(handle)?, buffer)
    }

    /// An answer.
    fn write(&self, handle: u64, bytes: &dyn Source) -> Result<usize, Error> {
        ipc::answer(&name(handle)?, bytes)
    }

    /// The buffer holds a pending request's tag (4 bytes, little endian) and receives the
    /// rights of the process that sent it, as `Rights::to_text`. `NotFound` when no request
    /// with that tag waits for this server's answer. Tag 0, which no request has, is
    /// followed by a device name ended by a NUL (at most 64 bytes) and receives that
    /// device's quiesce state line (`devices::quiesce::write_state`).
    fn call(&self, handle: u64, input: &dyn Source, output: &mut dyn Sink) -> Result<usize, Error> {
        let name = name(handle)?;
        let mut tag = [0u8; 4];
        if input.len() < tag.len() {
            return Err(Error::InvalidArgument);
        }
        input.copy_to(0, &mut tag)?;
        let mut text = Text::new();
        match u32::from_le_bytes(tag) {
            0 => {
                let mut device = [0u8; 64];
                let length = device.len().min(input.len() - tag.len());
                input.copy_to(tag.len(), &mut device[..length])?;
                let end = device[..length]
                    .iter()
                    .position(|byte| *byte == 0)
                    .ok_or(Error::InvalidArgument)?;
                let device =
                    core::str::from_utf8(&device[..end]).map_err(|_| Error::InvalidArgument)?;
                let _ = crate::devices::quiesce::write_state(device, &mut text);
            }
            tag => {
                let _ = ipc::caller_rights(&name, tag)?.write_text(&mut text);
            }
        }
        let text = text.finish()?;
        if text.len() > output.len() {
            return Err(Error::InvalidArgument);
        }
        output.copy_from(0, text.as_bytes())?;
        Ok(text.len())
    }

    /// Ready while a request is queued (`read` will not block).
    fn ready(&self, handle: u64) -> Result<bool, Error> {
        Ok(ipc::has_request(&name(handle)?))
    }

    /// The scheme stays registered until its server exits.
    fn close(&self, handle: u64) {
        HANDLES.remove(handle);
    }
}
