-- Reserved for issue 4; the branch that owns this file replaces this placeholder.
SELECT 1;
