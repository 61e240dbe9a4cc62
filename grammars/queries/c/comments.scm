; Comments: forksafe-ignore suppressions and forksafe-assume annotations are read from these.
(comment) @comment
