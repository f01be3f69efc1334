/*
 * What a prompt got back (module.h, "answer.c"): the password the stack
 * already holds, nothing, or something to check.  Used by the code and card
 * prompts and by the helper's client; calls no other file of the module.
 */
#include "config.h"

#include <security/pam_appl.h>
#include <security/pam_modules.h>

#include "mfauth/codetext.h"
#include "module.h"

/*
 * sshd's password authentication (KbdInteractiveAuthentication no) answers
 * every prompt with the password, so the code prompt gets the password the
 * stack already holds.  Only exact equality with PAM_AUTHTOK counts; the
 * item belongs to libpam and is not ours to wipe.
 */
bool is_password(const struct login *l, const char *answer)
{
	const void *tok = NULL;

	if (pam_get_item(l->pamh, PAM_AUTHTOK, &tok) != PAM_SUCCESS || tok == NULL)
		return false;
	return mfa_code_is_secret(answer, tok);
}

enum answer classify_answer(const struct login *l, char *code)
{
	if (code == NULL || code[0] == '\0')
		return ANSWER_NONE;
	if (is_password(l, code))
		return ANSWER_PASSWORD;
	if (mfa_code_strip_blanks(code) == 0)
		return ANSWER_NONE;
	return ANSWER_CODE;
}
