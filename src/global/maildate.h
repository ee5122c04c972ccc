/* maildate.h — the date-time of RFC 5322 §3.3 ("Tue, 24 Nov 2026 20:05:10 +0000"), as the
 * programs write it in the headers of the mail they make (listen's Received line, act-smtp's
 * reports, gen-corpus's messages). Day and month names are English whatever the locale. */
#ifndef BS_MAILDATE_H
#define BS_MAILDATE_H

#include <stddef.h>
#include <time.h>

/* Room for any date mail_date writes, with its NUL. */
#define MAIL_DATE_SIZE 40

enum {
    MAIL_DATE_UTC = 0,   /* UTC, zone "+0000" */
    MAIL_DATE_LOCAL = 1, /* local time with its offset ("-0500"), as listen stamps its spool */
    MAIL_DATE_DAY2 = 2,  /* the day in two digits ("01"), as gen-corpus writes it */
};

/* Writes the date of t into buf (n bytes, MAIL_DATE_SIZE is enough; cut to fit) and
 * returns buf. flags: MAIL_DATE_UTC or MAIL_DATE_LOCAL, optionally | MAIL_DATE_DAY2. */
char *mail_date(time_t t, unsigned flags, char *buf, size_t n);

#endif
