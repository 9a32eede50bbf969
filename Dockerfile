# The FloatChat app / Dask worker image.
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends libgeos-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY floatchat_core ./floatchat_core
COPY workbench ./workbench
COPY scripts ./scripts
# CPU-only torch from PyTorch's CPU index first, so the project's deps never pull a CUDA build
RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu -r scripts/requirements-torch.txt \
    && pip install --no-cache-dir .
ENV FLOATCHAT_HOME=/data/floatchat
EXPOSE 5006
CMD ["floatchat", "serve", "--address", "0.0.0.0", "--port", "5006"]
