/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Promises a umfuse module may make to vos-fuse-runner (see umfuse(7)).
 *
 * A module that defines
 *
 *     const unsigned vos_fuse_module_hints = VOS_FUSE_HINT_... | ...;
 *
 * is served accordingly when it runs in a view; built as a normal FUSE
 * program, the same source ignores the symbol. Each hint is a promise
 * about the module's behaviour: do not set one the module does not keep. */
#pragma once

/* The module serialises its requests anyway (one big lock), and no handler
 * waits for another request to arrive (a blocking lock, say), so the runner
 * lets one of its threads read the connection at a time: that thread keeps
 * reading while requests come in a burst, busy-polling between them so
 * that no wake-up is needed, and hands over to another thread after each
 * READ, so that read-ahead still runs in parallel. */
#define VOS_FUSE_HINT_SERIAL_READER 0x1u

/* The module clears SUID and SGID itself whenever the kernel would (write,
 * truncate and chown, with the kernel's rules), so the kernel may skip
 * asking for them: the runner offers FUSE_HANDLE_KILLPRIV_V2 in the
 * module's INIT reply, which libfuse 3.14 never does. That saves the
 * GETATTR before each chown and the security.capability GETXATTR before
 * every write but a file's first. */
#define VOS_FUSE_HINT_KILLPRIV_V2 0x2u
