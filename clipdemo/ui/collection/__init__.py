"""The collection tab: `layout.build()` adds it to the app; its figures, export and strings, where it has them, sit beside."""
