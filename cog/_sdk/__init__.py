"""The SDK's implementation; ``cog`` re-exports its public names."""
