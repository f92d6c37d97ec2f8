// Placeholder so the target exists; replace with the suite.
import Testing
