/*
 * trusted_add.h - "trusted add" and the pending device approvals of
 * "trusted list" (admin/cmd_trusted_add.c), called from cmd_trusted.
 */
#ifndef VRMS2FA_ADMIN_TRUSTED_ADD_H
#define VRMS2FA_ADMIN_TRUSTED_ADD_H

#include "admin.h"

/* trusted add LOGIN ADDR [--scope SCOPE]: an exit status. */
int trusted_add(admin_t *a, char const *login, char const *address, char const *scope);

/* The user's pending device approvals: lines, or with --json a "pending_approvals" array in j.  An exit status. */
int trusted_list_pending(admin_t *a, uint64_t user_id, char const *login, json_t *j);

#endif
