"""Staff-side editing of a commune's content: forms, workflow, versions (see services)."""
