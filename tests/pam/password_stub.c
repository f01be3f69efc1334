/*
 * A stand-in for pam_unix in the PAM tests: asks "Password: " through the
 * conversation with pam_get_authtok() (which keeps the answer as
 * PAM_AUTHTOK, as pam_unix does) and succeeds only when it equals the
 * module argument password=WORD.  Lets a test stack show what sshd's
 * password mode does (the same answer to every prompt) and what a wrong
 * password reaches under each control flag.  Test builds only.
 */
#include <string.h>

#define PAM_SM_AUTH
#include <security/pam_appl.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	const char *want = NULL, *tok = NULL;

	(void)flags;
	for (int i = 0; i < argc; i++)
		if (strncmp(argv[i], "password=", 9) == 0)
			want = argv[i] + 9;
	if (want == NULL || pam_get_authtok(pamh, PAM_AUTHTOK, &tok, NULL) != PAM_SUCCESS ||
	    tok == NULL)
		return PAM_AUTH_ERR;
	return strcmp(tok, want) == 0 ? PAM_SUCCESS : PAM_AUTH_ERR;
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}
