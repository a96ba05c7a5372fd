"""The differential tester: generated Keras programs, run and linted (docs/differential.md)."""
