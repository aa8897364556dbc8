"""The pipeline's stage scripts: dvc.yaml runs each as `python -m stages.<name>`; each is a thin main()."""
