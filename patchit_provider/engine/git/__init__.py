"""Git, the one way PATCHIT uses it: hardened commands (`command`) and throwaway checkouts
(`worktree`), shared by patching, validation and publishing. Import the submodules."""
