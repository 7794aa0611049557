//! Parsers that turn sign-in logs into normalised events: format sniffing, Entra ID Graph signIn, OpenSSH sshd syslog.
