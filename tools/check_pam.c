/*
 * mfauth check, part 6: the PAM stacks.  Every file in the PAM directory is
 * parsed the way libpam reads it (continuation lines, bracketed controls,
 * @include/include/substack followed one level); for each stack with
 * pam_mfauth.so it reports a line PAM would skip silently ("-auth"), a
 * control that lets a failure through, nullok, no password module before it,
 * a password module whose failure still reaches it, auth without account,
 * and a file others could edit.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "mfauth/err.h"

#define MODULE_NAME "pam_mfauth.so"
/* PAM files: larger ones or longer logical lines are reported, not parsed. */
#define PAM_FILE_MAX (1024 * 1024)
#define PAM_LINE_MAX (64 * 1024)

/* "nullok", "nullok=yes" (or true, 1, on) as a module argument. */
static bool is_nullok_arg(const char *tok)
{
	static const char *const yes[] = { "yes", "true", "1", "on" };

	if (strcmp(tok, "nullok") == 0)
		return true;
	if (strncmp(tok, "nullok=", 7) != 0)
		return false;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (strcmp(tok + 7, yes[i]) == 0)
			return true;
	return false;
}

struct pam_ent {
	char type[16]; /* auth, account, password, session (lower case) */
	bool dash;     /* "-auth": PAM skips the line silently when the module will not load */
	char *control; /* as written, brackets included */
	char *module;  /* base name */
	bool nullok;
	unsigned line;
	char *file;  /* the file the line is in */
	bool direct; /* in the file itself, not in one it includes */
};

struct pam_file {
	char *name;
	struct pam_ent *v;
	size_t n, cap;
	bool included; /* another file includes it: a fragment, not a service */
	struct stat st;
};

struct pam_ctx {
	struct report *r;
	const char *dir;
	int dirfd;
	struct pam_file *files;
	size_t nfiles;
	bool sshd_auth; /* the sshd service runs pam_mfauth.so in auth */
	char subject[PATH_MAX + 300];
};

static const char *pam_subject(struct pam_ctx *x, const char *file, unsigned line)
{
	if (line > 0)
		snprintf(x->subject, sizeof(x->subject), "%s/%s:%u", x->dir, file, line);
	else
		snprintf(x->subject, sizeof(x->subject), "%s/%s", x->dir, file);
	return x->subject;
}

static bool is_type(const char *s)
{
	return strcasecmp(s, "auth") == 0 || strcasecmp(s, "account") == 0 ||
	    strcasecmp(s, "password") == 0 || strcasecmp(s, "session") == 0;
}

static bool is_password_module(const char *m)
{
	static const char *const names[] = { "pam_unix.so", "pam_sss.so", "pam_ldap.so",
		"pam_krb5.so", "pam_winbind.so", "pam_unix2.so", "pam_pwdb.so", "pam_userdb.so" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(m, names[i]) == 0)
			return true;
	return false;
}

static bool is_mfauth(const struct pam_ent *e)
{
	return strcmp(e->module, MODULE_NAME) == 0;
}

/*
 * Next token of a logical line: blank-separated, or a [...] group that may
 * hold blanks ("\]" inside does not close it).  NUL-terminates it in place;
 * NULL at the end of the line.
 */
static char *pam_token(char **pp, bool *unterminated)
{
	char *p = *pp + strspn(*pp, " \t\r\n"), *start = p;

	if (*p == '\0') {
		*pp = p;
		return NULL;
	}
	if (*p == '[') {
		for (p++; *p != '\0' && *p != ']'; p++)
			if (*p == '\\' && p[1] == ']')
				p++;
		if (*p == ']')
			p++;
		else
			*unterminated = true;
	}
	p += strcspn(p, " \t\r\n");
	if (*p != '\0')
		*p++ = '\0';
	*pp = p;
	return start;
}

static void pam_file_free(struct pam_file *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].control);
		free(f->v[i].module);
		free(f->v[i].file);
	}
	free(f->v);
	free(f->name);
}

static struct pam_file *pam_find(struct pam_ctx *x, const char *name)
{
	for (size_t i = 0; i < x->nfiles; i++)
		if (strcmp(x->files[i].name, name) == 0)
			return &x->files[i];
	return NULL;
}

static int pam_push(struct pam_file *out, const char *type, bool dash, const char *control,
    const char *module, bool nullok, unsigned line, const char *file, bool direct)
{
	struct pam_ent *e;
	const char *base = strrchr(module, '/');

	if (out->n == out->cap) {
		size_t ncap = out->cap ? out->cap * 2 : 32;
		struct pam_ent *p = realloc(out->v, ncap * sizeof(*p));
		if (p == NULL)
			return MFA_ERR_NOMEM;
		out->v = p;
		out->cap = ncap;
	}
	e = &out->v[out->n];
	memset(e, 0, sizeof(*e));
	for (size_t i = 0; type[i] != '\0' && i + 1 < sizeof(e->type); i++)
		e->type[i] = (char)(type[i] >= 'A' && type[i] <= 'Z' ? type[i] - 'A' + 'a' :
		                                                       type[i]);
	e->dash = dash;
	e->control = strdup(control);
	e->module = strdup(base ? base + 1 : module);
	e->file = strdup(file);
	e->nullok = nullok;
	e->line = line;
	e->direct = direct;
	if (e->control == NULL || e->module == NULL || e->file == NULL) {
		free(e->control);
		free(e->module);
		free(e->file);
		return MFA_ERR_NOMEM;
	}
	out->n++;
	return 0;
}

static int pam_parse_file(struct pam_ctx *x, struct pam_file *out, const char *name,
    const char *only_type, int depth, struct stat *st_out);

/*
 * "@include NAME" or "TYPE include|substack NAME": one level is followed
 * (the included lines count as this file's, for the password-module order);
 * an include inside an included file is noted but not followed.
 */
static void pam_include(struct pam_ctx *x, struct pam_file *out, const char *file, unsigned line,
    const char *target, const char *only_type, int depth)
{
	size_t dl = strlen(x->dir);
	const char *base = target;
	struct pam_file *inc;
	struct stat st;
	int rc;

	if (target == NULL) {
		if (depth == 0)
			check_report(x->r, SEV_WARNING, "pam", pam_subject(x, file, line), "%s",
			    _("include "
			      "without a file name"));
		return;
	}
	if (strchr(target, '/') != NULL) {
		if (strncmp(target, x->dir, dl) == 0 && target[dl] == '/' &&
		    target[dl + 1] != '\0' && strchr(target + dl + 1, '/') == NULL) {
			base = target + dl + 1;
		} else {
			if (depth == 0)
				check_report(x->r, SEV_INFO, "pam", pam_subject(x, file, line),
				    _("include of "
				      "%s outside %s not followed"),
				    target, x->dir);
			return;
		}
	}
	if ((inc = pam_find(x, base)) != NULL)
		inc->included = true;
	if (depth > 0)
		return;
	rc = pam_parse_file(x, out, base, only_type, depth + 1, &st);
	if (rc == MFA_ERR_NOENT)
		check_report(x->r, SEV_WARNING, "pam", pam_subject(x, file, line),
		    _("included file %s "
		      "does not exist"),
		    base);
}

/* One logical line (comment and continuations already handled). */
static void pam_line(struct pam_ctx *x, struct pam_file *out, const char *file, char *line,
    unsigned lineno, const char *only_type, int depth)
{
	char *p = line, *tok, *type, *control, *module;
	bool unterminated = false, dash = false, nullok = false;

	if ((tok = pam_token(&p, &unterminated)) == NULL)
		return;
	if (strcasecmp(tok, "@include") == 0) {
		pam_include(x, out, file, lineno, pam_token(&p, &unterminated), NULL, depth);
		return;
	}
	type = tok;
	if (type[0] == '-') {
		dash = true;
		type++;
	}
	if (!is_type(type)) {
		if (depth == 0)
			check_report(x->r, SEV_WARNING, "pam", pam_subject(x, file, lineno),
			    _("unknown "
			      "type '%.40s': PAM ignores the line"),
			    type);
		return;
	}
	control = pam_token(&p, &unterminated);
	module = control ? pam_token(&p, &unterminated) : NULL;
	if (control != NULL && module != NULL && !unterminated)
		while ((tok = pam_token(&p, &unterminated)) != NULL)
			nullok = nullok || is_nullok_arg(tok);
	if (control == NULL || module == NULL || unterminated) {
		if (depth == 0)
			check_report(x->r, SEV_WARNING, "pam", pam_subject(x, file, lineno),
			    _("%s: PAM "
			      "rejects the line"),
			    unterminated ? _("'[' without ']'") : _("no control or module"));
		return;
	}
	if (only_type != NULL && strcasecmp(type, only_type) != 0)
		return;
	if (strcasecmp(control, "include") == 0 || strcasecmp(control, "substack") == 0) {
		pam_include(x, out, file, lineno, module, type, depth);
		return;
	}
	if (pam_push(out, type, dash, control, module, nullok, lineno, file, depth == 0) != 0)
		check_report(x->r, SEV_ERROR, "pam", pam_subject(x, file, lineno), "%s",
		    _("out of memory"));
}

struct logical {
	char *buf;
	size_t len;
	unsigned start;
	bool too_long;
};

/*
 * Add one physical line to the logical line as Linux-PAM assembles it: blank
 * and comment lines skipped, '#' starts a comment anywhere, a trailing
 * backslash continues on the next line.  Returns true when the logical line
 * is complete.
 */
static bool pam_assemble(struct logical *l, char *phys, unsigned lineno)
{
	char *s = phys + strspn(phys, " \t\r"), *hash;
	size_t sl;
	bool cont;

	if (*s == '\0' || *s == '#')
		return false;
	if ((hash = strchr(s, '#')) != NULL)
		*hash = '\0';
	sl = strlen(s);
	while (sl > 0 && (s[sl - 1] == ' ' || s[sl - 1] == '\t' || s[sl - 1] == '\r'))
		sl--;
	cont = sl > 0 && s[sl - 1] == '\\';
	if (cont)
		sl--;
	if (l->len == 0 && !l->too_long)
		l->start = lineno;
	if (l->len + sl + 1 > PAM_LINE_MAX) {
		l->too_long = true;
	} else if (!l->too_long) {
		memcpy(l->buf + l->len, s, sl);
		l->len += sl;
		l->buf[l->len++] = ' ';
	}
	return !cont;
}

static void pam_flush(struct pam_ctx *x, struct pam_file *out, const char *name, struct logical *l,
    const char *only_type, int depth)
{
	if (l->too_long) {
		if (depth == 0)
			check_report(x->r, SEV_WARNING, "pam", pam_subject(x, name, l->start),
			    _("line longer "
			      "than %d bytes: not checked"),
			    PAM_LINE_MAX);
	} else if (l->len > 0) {
		l->buf[l->len] = '\0';
		pam_line(x, out, name, l->buf, l->start, only_type, depth);
	}
	l->len = 0;
	l->too_long = false;
}

/* Read a regular file of the PAM directory (a symlink is followed, as PAM does). */
static int pam_read(struct pam_ctx *x, const char *name, char **text, size_t *len, struct stat *st)
{
	int fd = openat(x->dirfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY), rc;

	if (fd < 0)
		return errno == ENOENT ? MFA_ERR_NOENT : MFA_ERR_IO;
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return MFA_ERR_INVAL;
	}
	rc = mfa_read_fd_all(fd, PAM_FILE_MAX, text, len);
	close(fd);
	return rc;
}

static int pam_parse_file(struct pam_ctx *x, struct pam_file *out, const char *name,
    const char *only_type, int depth, struct stat *st_out)
{
	struct logical l = { NULL, 0, 0, false };
	char *text = NULL, *p, *end;
	size_t len = 0;
	unsigned lineno = 0;
	int rc;

	if ((rc = pam_read(x, name, &text, &len, st_out)) != 0) {
		if (rc == MFA_ERR_RANGE && depth == 0)
			check_report(x->r, SEV_WARNING, "pam", pam_subject(x, name, 0),
			    _("larger than %d "
			      "bytes: not checked"),
			    PAM_FILE_MAX);
		return rc;
	}
	if ((l.buf = malloc(PAM_LINE_MAX + 1)) == NULL) {
		free(text);
		return MFA_ERR_NOMEM;
	}
	for (p = text, end = text + len; p < end; lineno++) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *line_end = nl ? nl : end;
		*line_end = '\0';
		if (pam_assemble(&l, p, lineno + 1))
			pam_flush(x, out, name, &l, only_type, depth);
		p = line_end + 1;
	}
	/* A continuation on the last line: what was gathered still counts. */
	pam_flush(x, out, name, &l, only_type, depth);
	free(l.buf);
	free(text);
	return 0;
}

/* Is a password module in the auth stack of f before entry idx? */
static bool pam_password_before(const struct pam_file *f, size_t idx)
{
	for (size_t i = 0; i < idx && i < f->n; i++)
		if (strcmp(f->v[i].type, "auth") == 0 && is_password_module(f->v[i].module))
			return true;
	return false;
}

/* The action of a [key=value ...] control for key, else its default=; NULL if neither. */
static const char *bracket_action(const char *control, const char *key, char *buf, size_t len)
{
	const char *found = NULL, *dflt = NULL;
	char *p, *tok, *save = NULL;

	snprintf(buf, len, "%s", control + 1);
	if ((p = strrchr(buf, ']')) != NULL)
		*p = '\0';
	for (tok = strtok_r(buf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		char *eq = strchr(tok, '=');
		if (eq == NULL)
			continue;
		*eq = '\0';
		if (strcasecmp(tok, key) == 0)
			found = eq + 1;
		else if (strcasecmp(tok, "default") == 0)
			dflt = eq + 1;
	}
	return found ? found : dflt;
}

/*
 * Does a failure of the module fail the stack under this control?  Returns
 * the severity of the problem (SEV_OK when none) with why filled in.
 */
static enum sev pam_control_problem(const struct pam_ent *e, char *why, size_t len)
{
	static const char *const auth_keys[] = { "auth_err", NULL };
	static const char *const acct_keys[] = { "perm_denied", "auth_err", NULL };
	bool auth = strcmp(e->type, "auth") == 0;
	const char *c = e->control,
	           *what = auth ? _("a wrong code does not stop the login") :
	                          _("a locked user is let in");
	char buf[512];

	if (strcasecmp(c, "required") == 0 || strcasecmp(c, "requisite") == 0)
		return SEV_OK;
	if (strcasecmp(c, "sufficient") == 0 || strcasecmp(c, "optional") == 0) {
		snprintf(why, len,
		    _("control '%s': PAM ignores a failure of the module, so %s%s; "
		      "use required"),
		    c, what,
		    auth && strcasecmp(c, "sufficient") == 0 ?
		        _(", and its success can stand in for the password") :
		        "");
		return SEV_ERROR;
	}
	if (c[0] != '[') {
		snprintf(why, len, _("unknown control '%.60s'"), c);
		return SEV_WARNING;
	}
	for (const char *const *k = auth ? auth_keys : acct_keys; *k; k++) {
		const char *act = bracket_action(c, *k, buf, sizeof(buf));
		if (act == NULL) {
			snprintf(why, len,
			    _("control %.200s sets neither %s= nor default=: make a "
			      "failure 'bad' or 'die'"),
			    c, *k);
			return SEV_WARNING;
		}
		if (strcasecmp(act, "bad") != 0 && strcasecmp(act, "die") != 0) {
			snprintf(why, len, _("control %.200s: %s=%.20s, so %s; use %s=bad or die"),
			    c, *k, act, what, *k);
			return SEV_ERROR;
		}
	}
	return SEV_OK;
}

/*
 * Where the auth stack goes after entry i returned `failed` (else success):
 * the index of the next entry, or SIZE_MAX when the stack stops there.  As
 * libpam does it: requisite and die stop on a failure; done stops; a number
 * jumps over that many auth lines; a bracket without the key or default= is
 * "bad", which goes on.  sufficient's success ends the stack.
 */
static size_t pam_next(const struct pam_ent *const *v, size_t i, bool failed)
{
	const char *c = v[i]->control, *act;
	char buf[512], *end = NULL;
	unsigned long n;

	if (strcasecmp(c, "requisite") == 0)
		return failed ? SIZE_MAX : i + 1;
	if (strcasecmp(c, "sufficient") == 0)
		return failed ? i + 1 : SIZE_MAX;
	if (c[0] != '[')
		return i + 1; /* required, optional */
	act = bracket_action(c, failed ? "auth_err" : "success", buf, sizeof(buf));
	if (act == NULL)
		return i + 1;
	if (strcasecmp(act, "die") == 0 || strcasecmp(act, "done") == 0)
		return SIZE_MAX;
	n = strtoul(act, &end, 10);
	if (end != act && *end == '\0' && n > 0 && n < 1000)
		return i + 1 + n;
	return i + 1;
}

/*
 * Does a wrong password at auth line p reach auth line m (pam_mfauth.so)?
 * A password module or pam_deny.so met on the way fails too (whoever typed
 * the wrong password does not know it); every other module succeeds.
 */
static bool pam_failure_reaches(const struct pam_ent *const *v, size_t p, size_t m)
{
	size_t i = pam_next(v, p, true);

	while (i < m)
		i = pam_next(v, i,
		    is_password_module(v[i]->module) || strcmp(v[i]->module, "pam_deny.so") == 0);
	return i == m;
}

/*
 * A password module whose failure still reaches pam_mfauth.so: anyone who
 * can reach the login can lock any clerk with a wrong password and wrong
 * codes, and a wrong password with the current code spends the code (the
 * module's success, the login's failure).  Warned at the password module's
 * line; a sufficient one is an error, as its success skips the second factor.
 * A pair of lines of one included file is left to that file's own check.
 */
static bool pam_check_password_order(struct pam_ctx *x, const struct pam_file *f, size_t idx)
{
	const struct pam_ent *v[512];
	size_t n = 0, m = SIZE_MAX;
	bool ok = true;
	char where[PATH_MAX + 300];

	for (size_t i = 0; i < f->n && n < sizeof(v) / sizeof(v[0]); i++) {
		if (strcmp(f->v[i].type, "auth") != 0)
			continue;
		if (i == idx)
			m = n;
		v[n++] = &f->v[i];
	}
	for (size_t p = 0; p < m && m != SIZE_MAX; p++) {
		const struct pam_ent *pe = v[p], *me = v[m];
		bool sufficient = strcasecmp(pe->control, "sufficient") == 0;

		if (!is_password_module(pe->module) || !pam_failure_reaches(v, p, m) ||
		    (!pe->direct && !me->direct && strcmp(pe->file, me->file) == 0))
			continue;
		snprintf(where, sizeof(where), "%s", pam_subject(x, me->file, me->line));
		check_report(x->r, sufficient ? SEV_ERROR : SEV_WARNING, "pam",
		    pam_subject(x, pe->file, pe->line),
		    _("%s '%s' in service %s: a wrong password "
		      "still reaches pam_mfauth.so (%s), so anyone can lock the user with wrong codes, "
		      "and a wrong password with the right code spends the code%s; use requisite "
		      "(or [success=1 default=ignore] followed by 'auth requisite pam_deny.so')"),
		    pe->module, pe->control, f->name, where,
		    sufficient ? _(", and its success skips the second factor") : "");
		ok = false;
	}
	return ok;
}

/*
 * A pam_mfauth.so auth line in a fragment without a password module before
 * it: fine if every file that includes the fragment has one before it.
 */
static bool pam_password_in_includers(struct pam_ctx *x, const struct pam_file *f,
    const struct pam_ent *e)
{
	size_t seen = 0;

	for (size_t i = 0; i < x->nfiles; i++) {
		const struct pam_file *g = &x->files[i];
		for (size_t j = 0; g != f && j < g->n; j++) {
			const struct pam_ent *ge = &g->v[j];
			if (ge->direct || ge->line != e->line || strcmp(ge->file, f->name) != 0 ||
			    strcmp(ge->type, "auth") != 0)
				continue;
			if (!pam_password_before(g, j))
				return false;
			seen++;
		}
	}
	return seen > 0;
}

/* The checks of one pam_mfauth.so line written in f; true if all passed. */
static bool pam_check_line(struct pam_ctx *x, const struct pam_file *f, size_t idx)
{
	const struct pam_ent *e = &f->v[idx];
	const char *subj;
	char why[1024];
	enum sev sev;
	bool ok = true;

	subj = pam_subject(x, f->name, e->line);
	if (e->dash) {
		check_report(x->r, SEV_WARNING, "pam", subj,
		    _("'-%s': PAM skips the line silently when "
		      "the module does not load; drop the '-'"),
		    e->type);
		ok = false;
	}
	if ((sev = pam_control_problem(e, why, sizeof(why))) != SEV_OK) {
		check_report(x->r, sev, "pam", subj, "%s", why);
		ok = false;
	}
	if (strcmp(e->type, "auth") != 0)
		return ok;
	if (e->nullok) {
		check_report(x->r, SEV_WARNING, "pam", subj, "%s",
		    _("nullok: users without an enrollment log in "
		      "with the password alone"));
		ok = false;
	}
	if (!pam_password_before(f, idx) && !(f->included && pam_password_in_includers(x, f, e))) {
		check_report(x->r, SEV_ERROR, "pam", subj, "%s",
		    _("no password module (pam_unix, pam_sss, "
		      "pam_ldap, pam_krb5) before pam_mfauth.so in auth (includes followed one "
		      "level)"));
		ok = false;
	}
	return ok;
}

/* One file: its own pam_mfauth.so lines, and as a service, auth and account. */
static bool pam_check_file(struct pam_ctx *x, struct pam_file *f)
{
	bool in_auth = false, in_acct = false, direct = false, ok = true;

	for (size_t i = 0; i < f->n; i++) {
		if (!is_mfauth(&f->v[i]))
			continue;
		if (strcmp(f->v[i].type, "auth") == 0 && !pam_check_password_order(x, f, i))
			ok = false;
		in_auth = in_auth || strcmp(f->v[i].type, "auth") == 0;
		in_acct = in_acct || strcmp(f->v[i].type, "account") == 0;
		if (f->v[i].direct) {
			direct = true;
			ok = pam_check_line(x, f, i) && ok;
		}
	}
	if (!in_auth && !in_acct)
		return false;
	if (in_auth && strcmp(f->name, "sshd") == 0)
		x->sshd_auth = true;
	if (direct && (f->st.st_uid != 0 || (f->st.st_mode & 0022) != 0)) {
		check_report(x->r, SEV_CRITICAL, "pam", pam_subject(x, f->name, 0),
		    _("not root-owned or "
		      "writable by others (uid %u, mode %04o): anyone could take the module out"),
		    (unsigned)f->st.st_uid, (unsigned)(f->st.st_mode & 07777));
		ok = false;
	}
	if (in_auth && !in_acct && !f->included) {
		check_report(x->r, SEV_ERROR, "pam", pam_subject(x, f->name, 0), "%s",
		    _("pam_mfauth.so in auth "
		      "but not in account: a locked user still gets in where only account runs "
		      "(su from root, ssh keys)"));
		ok = false;
	}
	if (ok)
		check_report(x->r, SEV_OK, "pam", pam_subject(x, f->name, 0),
		    _("pam_mfauth.so in %s%s%s"),
		    in_auth && in_acct ? _("auth and account") :
		        in_auth        ? "auth" :
		                         "account",
		    direct ? "" : _(" (through an include)"),
		    f->included && !in_acct ? _(" (a fragment included by other files)") : "");
	return true;
}

static int cmp_pam_file(const void *a, const void *b)
{
	return strcmp(((const struct pam_file *)a)->name, ((const struct pam_file *)b)->name);
}

/* The non-hidden regular files of the PAM directory, sorted, unparsed. */
static int pam_list(struct pam_ctx *x)
{
	struct dirent *de;
	size_t cap = 0;
	struct stat st;
	DIR *d;
	int fd, rc = 0;

	if ((fd = openat(x->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return MFA_ERR_IO;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return MFA_ERR_IO;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || fstatat(x->dirfd, de->d_name, &st, 0) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (x->nfiles == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct pam_file *p = realloc(x->files, ncap * sizeof(*p));
			if (p == NULL) {
				rc = MFA_ERR_NOMEM;
				break;
			}
			x->files = p;
			cap = ncap;
		}
		memset(&x->files[x->nfiles], 0, sizeof(x->files[0]));
		if ((x->files[x->nfiles].name = strdup(de->d_name)) == NULL) {
			rc = MFA_ERR_NOMEM;
			break;
		}
		x->nfiles++;
	}
	closedir(d);
	if (x->nfiles > 1)
		qsort(x->files, x->nfiles, sizeof(x->files[0]), cmp_pam_file);
	return rc;
}

void check_pam(struct report *r, const char *dir, bool *sshd_auth)
{
	struct pam_ctx x;
	size_t found = 0;
	int rc;

	memset(&x, 0, sizeof(x));
	x.r = r;
	x.dir = dir;
	if ((x.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		check_report(r, SEV_ERROR, "pam", dir, _("cannot open: %s"), strerror(errno));
		return;
	}
	if ((rc = pam_list(&x)) != 0) {
		check_report(r, SEV_ERROR, "pam", dir, _("cannot list: %s"), cli_strerror(rc));
		goto out;
	}
	/* All files first: includes mark their targets as fragments. */
	for (size_t i = 0; i < x.nfiles; i++)
		pam_parse_file(&x, &x.files[i], x.files[i].name, NULL, 0, &x.files[i].st);
	for (size_t i = 0; i < x.nfiles; i++)
		if (pam_check_file(&x, &x.files[i]))
			found++;
	if (found == 0)
		check_report(r, SEV_ERROR, "pam", dir, "%s",
		    _("module not in any PAM stack: no file here "
		      "has a pam_mfauth.so line"));
out:
	*sshd_auth = x.sshd_auth;
	for (size_t i = 0; i < x.nfiles; i++)
		pam_file_free(&x.files[i]);
	free(x.files);
	close(x.dirfd);
}
