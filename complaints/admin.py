"""Complaints are records (§5.12.8): they are not registered in the admin, which would offer editing, deleting
and simple_history's "revert". They are read and worked on through the complaint pages only."""
