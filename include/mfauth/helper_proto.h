/*
 * The conversation between the PAM module and its setuid helper
 * (mfauth-verify(8)), over two pipes.  The helper has no PAM handle: it says
 * what to ask or show, the module asks through the PAM conversation,
 * translates, and sends the answer back.  Both directions are small, bounded
 * and parsed here (fuzz/fuzz_helper_proto.c).
 *
 * Helper -> module, one request per line, at most MFA_HP_LINE_MAX bytes
 * including the '\n', printable ASCII only:
 *   code                  ask for a verification code (echo off); an answer follows
 *   pin jpki|piv TRIES    ask for the card PIN; TRIES = tries left, -1 unknown; an answer follows
 *   msg ID [N]            show message ID (table below) with its number N
 *   end STATUS            the verdict (enum mfa_hp_exit), the last line before exit
 * Module -> helper, one answer per asking request:
 *   LEN '\n' then LEN bytes, 0 <= LEN <= MFA_HP_ANSWER_MAX, no NUL and no
 *   newline inside; LEN 0 means "no answer" (the conversation failed).
 * The helper then exits with the same status (mfauth-verify(8), EXIT STATUS).
 * The end line lets a host that ignores SIGCHLD (children reaped by the
 * kernel, no status to wait for) still get the verdict; where the exit
 * status can be read, the module requires the two to agree.
 */
#ifndef MFAUTH_HELPER_PROTO_H
#define MFAUTH_HELPER_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MFA_HP_LINE_MAX 64
#define MFA_HP_ANSWER_MAX 128
/*
 * argv[1] of the helper: a caller that does not know it is not the module.
 * v2 (the card only at the terminal) added RHOST and PLACE after TTY:
 *   --mfauth-helper-v2 auth|account USER SERVICE TTY RHOST PLACE [conf=PATH]
 * PLACE is "local" or the module's remote signal (remote.h tokens).  The
 * helper refuses v1 (exit 4): a v1 caller says nothing of where the clerk
 * is, and the new messages below would break its parser.
 */
#define MFA_HP_MAGIC "--mfauth-helper-v2"
/* PLACE for a login mfa_login_remote() found local. */
#define MFA_HP_PLACE_LOCAL "local"

/* Exit status of the helper; anything else (or a signal) is a failure. */
enum mfa_hp_exit {
	MFA_HP_EXIT_OK = 0,     /* verified (auth) / not locked (account) */
	MFA_HP_EXIT_FAIL = 1,   /* refused: wrong or missing factor, or an error */
	MFA_HP_EXIT_IGNORE = 2, /* nullok and nothing enrolled */
	MFA_HP_EXIT_LOCKED = 3, /* account step: the user is locked */
	MFA_HP_EXIT_USAGE = 4,  /* not called as the helper (tty, arguments, caller) */
	MFA_HP_EXIT_STORE = 5,  /* store or configuration error */
	MFA_HP_EXIT_MAX_ = MFA_HP_EXIT_STORE,
};

enum mfa_hp_kind { MFA_HP_CODE = 1, MFA_HP_PIN, MFA_HP_MSG, MFA_HP_END };

/* Messages the module shows; numbered args noted. */
enum mfa_hp_msg {
	MFA_HP_MSG_NONE = 0,       /* nothing to show (never sent) */
	MFA_HP_MSG_LOCKED = 1,     /* locked after too many failures */
	MFA_HP_MSG_ACCOUNT_LOCKED, /* account step: locked */
	MFA_HP_MSG_NO_CARD,        /* no card found: a code instead */
	MFA_HP_MSG_PIN_TRIES,      /* N tries left: PIN not tried */
	MFA_HP_MSG_PIN_BLOCKED_JPKI,
	MFA_HP_MSG_PIN_BLOCKED,
	MFA_HP_MSG_BAD_PIN, /* wrong PIN, N tries left */
	MFA_HP_MSG_PIN_FORMAT_JPKI,
	MFA_HP_MSG_PIN_FORMAT,
	MFA_HP_MSG_CERT_EXPIRED, /* N = the certificate's notAfter, epoch seconds */
	MFA_HP_MSG_WRONG_CARD,
	MFA_HP_MSG_CARD_ERROR,
	MFA_HP_MSG_TRIES_UNKNOWN,       /* the card did not say its PIN tries: PIN not tried */
	MFA_HP_MSG_REPLAY,              /* a TOTP code used before */
	MFA_HP_MSG_DIRECTORY,           /* store = ldap: no directory server could be reached */
	MFA_HP_MSG_CARD_REMOTE,         /* v2: remote, card_remote = no: the code prompt follows */
	MFA_HP_MSG_CARD_REMOTE_REFUSED, /* v2: the same, and no code to check: refused */
	MFA_HP_MSG_MAX_ = MFA_HP_MSG_CARD_REMOTE_REFUSED,
};

struct mfa_hp_request {
	enum mfa_hp_kind kind;
	uint8_t profile;     /* MFA_CARD_JPKI / MFA_CARD_PIV (pin) */
	int tries;           /* pin: -1..15 */
	enum mfa_hp_msg msg; /* msg */
	uint64_t arg;        /* msg: its number (0 when it takes none); end: the status */
};

/*
 * Parse one request line (without its '\n').  0, or MFA_ERR_INVAL for
 * anything that is not exactly one of the forms above (unknown ID, a number
 * where none belongs, none where one does, out of range, stray bytes).
 */
int mfa_hp_parse_request(const char *line, size_t len, struct mfa_hp_request *rq);

/* Format a request as a line with its '\n'; 0 or MFA_ERR_INVAL / MFA_ERR_RANGE. */
int mfa_hp_format_request(const struct mfa_hp_request *rq, char *out, size_t outlen);

/* Does this message take a number? */
bool mfa_hp_msg_has_arg(enum mfa_hp_msg msg);

/*
 * A failed card attempt as a message, and back: the helper sends the
 * message for its card error and the card's profile (MFA_CARD_JPKI or
 * MFA_CARD_PIV), the module turns it back into an error and a profile for
 * its wording (pam_module/report.c, say_card_error).  One table for both
 * directions, so the two sides cannot drift apart.
 *   mfa_hp_card_msg: MFA_HP_MSG_NONE for an error the clerk is told nothing
 *     of here (0, a locked user, no card, no reader, no pcscd);
 *     MFA_HP_MSG_CARD_ERROR for any error the table does not name.
 *   mfa_hp_card_error: the error a card message stands for, *profile
 *     MFA_CARD_JPKI for the JPKI wordings and MFA_CARD_PIV otherwise;
 *     MFA_ERR_CARD for a message that is no card error.
 */
enum mfa_hp_msg mfa_hp_card_msg(int rc, uint8_t profile);
int mfa_hp_card_error(enum mfa_hp_msg msg, uint8_t *profile);

/*
 * Parse an answer from buf: the length line, then that many bytes.  On 0,
 * out (outsize > MFA_HP_ANSWER_MAX) holds the NUL-terminated answer and
 * *used the bytes consumed; MFA_ERR_INVAL for a malformed answer,
 * MFA_ERR_RANGE when buf is too short to hold it all yet.
 */
int mfa_hp_parse_answer(const uint8_t *buf, size_t len, char *out, size_t outsize, size_t *used);

/*
 * Descriptor I/O, through EINTR.  read_line: one line without its '\n' into
 * buf (NUL-terminated); MFA_ERR_INVAL if longer than size - 1 bytes or
 * holding a byte that is not printable ASCII,
 * MFA_ERR_IO on EOF or a read error.  send_answer: answer NULL sends "no
 * answer".  read_answer: an answer into out (outsize > MFA_HP_ANSWER_MAX);
 * returns its length, or MFA_ERR_INVAL / MFA_ERR_IO.  Buffers that held an
 * answer are wiped before return.
 */
int mfa_hp_write_all(int fd, const void *p, size_t n);
int mfa_hp_read_line(int fd, char *buf, size_t size);
int mfa_hp_send_answer(int fd, const char *answer);
int mfa_hp_read_answer(int fd, char *out, size_t outsize);

#endif
