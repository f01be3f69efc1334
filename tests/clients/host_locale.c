/*
 * Test shim, preloaded into the second private sshd of
 * tests/clients/test_ssh_text.py: the daemon calls setlocale(LC_ALL, "")
 * before its main(), as a host that runs PAM in its environment's locale
 * would.  OpenSSH's sshd never calls setlocale(), so the module speaks
 * English there whatever LANG is; with this shim and LANG=ja_JP.UTF-8 it
 * speaks Japanese, which is how the test sees what an ssh client shows of
 * Japanese prompts and messages.
 */
#include <locale.h>

__attribute__((constructor)) static void host_locale(void)
{
	setlocale(LC_ALL, "");
}
