"""The knowledge base: sources, embeddings, FAISS index and search."""
